import pytest

from jmedcorpus.errors import UserError
from jmedcorpus.io.plan import plan_units


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: str(p / "missing.jsonl"), "no such file or directory"),
        (lambda p: str(p / "*.jsonl"), "matches no"),
        (lambda p: str(p), "holds no"),
        (lambda p: (p / "x.csv").write_text("a") and str(p / "x.csv"), "unsupported file type"),
    ],
)
def test_bad_inputs_are_one_line_errors(tmp_path, make, message):
    with pytest.raises(UserError, match=message) as e:
        plan_units([make(tmp_path)], chunk_bytes=100)
    assert "\n" not in str(e.value)
