"""A `jmedcorpus tokenize` run killed with SIGKILL (the driver, its Ray and the task in flight,
all at once, as when a job is killed) resumes with the same command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from tokenize_helpers import expected_documents, megatron_documents, run

pytestmark = pytest.mark.ray

UNIT_MB = 0.001  # many small units: the tokenize stage runs for seconds
CHILD = """
import sys
from jmedcorpus.pipelines.tokenize import tokenize
from jmedcorpus.tokenize.settings import TokenizeOptions

corpus, out, tokenizer, unit_mb = sys.argv[1:]
tokenize(TokenizeOptions(corpus, out, tokenizer, workers=1, unit_mb=float(unit_mb), progress=False))
"""


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    return env


def kill_group(p: subprocess.Popen) -> None:
    """SIGKILL the child's process group (it leads it: start_new_session; Ray's processes join it)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(p.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("processes of the killed run are still alive")


def test_a_killed_run_resumes_with_the_same_command(corpus, tokenizer_dir, tmp_path):
    out = tmp_path / "tok"
    units = out / ".work" / "units"
    p = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(corpus), str(out), str(tokenizer_dir), str(UNIT_MB)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=child_env(),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and p.poll() is None and len(list(units.glob("*/result.json"))) < 3:
            time.sleep(0.01)
    finally:
        kill_group(p)
    if (out / "manifest.json").exists():
        pytest.skip("the run finished before SIGKILL arrived")
    assert p.returncode == -signal.SIGKILL, p.stderr.read().decode()[-2000:]
    p.stderr.close()
    done_before = len(list(units.glob("*/result.json")))
    assert done_before >= 3 and not list(out.glob("*/part-*"))
    m = run(corpus, out, tokenizer_dir, unit_mb=UNIT_MB)  # the same settings: resumes
    assert m["run"]["units_tokenized"] == m["run"]["units"] - done_before > 0
    expected = expected_documents(corpus, tokenizer_dir)
    for group, docs in expected.items():
        assert [d for p_ in m["groups"][group]["shards"] for d in megatron_documents(out / p_)] == docs
    assert m["totals"]["tokens"] == sum(len(d) for docs in expected.values() for d in docs)
    assert not [f for f in out.rglob("*") if ".tmp-" in f.name]  # no temporaries left
