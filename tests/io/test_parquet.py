"""io/parquet helpers that are not covered through a build."""

import subprocess
import sys

import pytest

# run in a fresh interpreter: the probe's decision is process-wide pyarrow state
_SCRIPT = """
import sys
from jmedcorpus.io.parquet import skip_pandas_probe
skip_pandas_probe()
import pyarrow as pa
t = pa.Table.from_pylist([{"a": "x"}])
assert "pandas" not in sys.modules, "pyarrow imported pandas"
import pandas as pd
assert t.to_pandas()["a"].tolist() == ["x"]
assert pa.Table.from_pandas(pd.DataFrame({"b": [1, 2]})).num_rows == 2
assert pa.array(pd.Series([1, 2])).to_pylist() == [1, 2]
print("ok")
"""


def test_skip_pandas_probe_keeps_pandas_working():
    """After the probe pyarrow builds tables without importing pandas, and still converts to and
    from pandas when asked."""
    pytest.importorskip("pandas")
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"
