"""Bad input and the usual first-hour mistakes: the build goes on (records quarantined or
removed with a reason, ``records in = kept + removed + quarantined``, exit 0), or stops before
touching the output with one line on stderr and exit 2. Nothing here reads ../shared."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from jmedcorpus.cli import main
from jmedcorpus.errors import UserError
from jmedcorpus.io.outdir import output_lock
from jmedcorpus.pipelines.build import BuildOptions, _summary, build
from jmedcorpus.pipelines.ray_tasks import TaskFailure, check_cluster_reachable, describe_exception
from jmedcorpus.recipe import load_recipe

pytestmark = pytest.mark.ray
REPORTS = "case_reports_ja.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def records(data_dir, n=6) -> list[dict]:
    with open(data_dir / REPORTS, encoding="utf-8") as f:
        return [json.loads(line) for line in f][:n]


def write_jsonl(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def run(inputs, out, recipe=None, workers=2, **kw):
    opts = BuildOptions([str(i) for i in inputs], str(out), recipe or load_recipe(), workers, progress=False)
    for key, value in kw.items():
        setattr(opts, key, value)
    return build(opts)


def adds_up(m) -> bool:
    c = m["counts"]
    return c["records_in"] == c["kept"] + c["removed"] + c["quarantined"]


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("jmedcorpus: error:") and "\n" not in err and "Traceback" not in err, err
    return err


def cli_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    return env


# --- data cases: the build goes on -------------------------------------------------------------
def test_duplicate_ids_keep_the_first_and_remove_the_rest_with_a_reason(
    ray_local, data_dir, tmp_path, capsys
):
    rows = records(data_dir)
    rows[1]["id"], rows[2]["id"] = 7, "7"  # the same id once ids are strings
    rows[3]["id"] = rows[0]["id"]
    write_jsonl(tmp_path / "in" / "a.jsonl", rows)
    out = tmp_path / "out"
    assert (
        main(
            [
                "build",
                "--input",
                str(tmp_path / "in"),
                "--output",
                str(out),
                "--no-progress",
                "--workers",
                "2",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "2 document(s) reuse an id" in printed
    m = json.loads((out / "manifest.json").read_text())
    assert adds_up(m)
    step = next(s for s in m["steps"] if s["name"] == "duplicate_ids")
    assert step["removed"] == 2 and step["reasons"] == {"duplicate_id": 2}
    removed = pq.read_table(str(out / "removed" / "duplicate_ids")).to_pylist()
    assert sorted((r["id"], r["duplicate_of"]) for r in removed) == sorted(
        [("7", "7"), (rows[0]["id"], rows[0]["id"])]
    )
    kept = pq.read_table(str(out / "data")).column("id").to_pylist()
    assert len(kept) == len(set(kept)) and "7" in kept


def test_an_oversized_document_is_dropped_before_the_expensive_steps(ray_local, data_dir, tmp_path):
    recipe = load_recipe()
    spec = next(s for s in recipe.steps if s.use == "doc_length")
    spec.params["max_chars"] = 5_000
    rows = records(data_dir, 3) + [{"id": "huge", "text": "胆管炎を認めた。" * 5_000}]
    write_jsonl(tmp_path / "in.jsonl", rows)
    m = run([tmp_path / "in.jsonl"], tmp_path / "out", recipe)
    assert adds_up(m)
    steps = {s["name"]: s for s in m["steps"]}
    assert steps["doc_length"]["reasons"] == {"quality_too_long": 1}
    assert steps["normalize"]["in"] == steps["normalize"]["out"] == 4  # counted as passed, not run
    (row,) = pq.read_table(str(tmp_path / "out" / "removed" / "doc_length")).to_pylist()
    signals = json.loads(row["signals"])
    assert row["id"] == "huge" and signals["non_space_chars"] == 40_000
    assert "mecab_tokens" not in signals  # MeCab never saw it


def test_the_wrong_text_field_says_which_fields_records_have(ray_local, data_dir, tmp_path, capsys):
    rows = [{"id": r["id"], "body": r["text"], "title": "x"} for r in records(data_dir, 4)]
    write_jsonl(tmp_path / "notes.jsonl", rows)
    args = [
        "build",
        "--input",
        str(tmp_path / "notes.jsonl"),
        "--output",
        str(tmp_path / "out"),
        "--no-progress",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "4 of 4 records have no field 'text'" in printed and "'body' (4)" in printed
    assert "--text-field" in printed


def test_unread_files_are_listed_in_the_manifest_and_the_summary(ray_local, data_dir, tmp_path, capsys):
    src = tmp_path / "in"
    write_jsonl(src / "a.jsonl", records(data_dir, 2))
    (src / "table.csv").write_text("id,text\n1,胆管炎\n", encoding="utf-8")
    (src / "notes.md").write_text("# 症例\n", encoding="utf-8")
    os.symlink(src / "missing.jsonl", src / "dangling.jsonl")
    assert main(["build", "--input", str(src), "--output", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "3 file(s) under --input were not read" in capsys.readouterr().out
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {f["path"] for f in m["skipped_files"]} == {"table.csv", "notes.md", "dangling.jsonl"}


def test_a_build_over_every_kind_of_bad_file_quarantines_them_and_adds_up(data_dir, tmp_path, capsys):
    # the bad inputs of issue 12 in one --input folder, through the command: exit 0, one record per
    # bad line or file with a reason, the good records around them kept, the counts adding up
    import gzip

    import zstandard

    rows = records(data_dir, 8)
    good = [json.dumps(r, ensure_ascii=False).encode() for r in rows]
    src = tmp_path / "in"
    write_jsonl(src / "a.jsonl", rows[:1])
    (src / "deep.jsonl").write_bytes(b"\n".join([good[1], b"[" * 1000 + b"]" * 1000, good[2]]) + b"\n")
    (src / "surrogate.jsonl").write_bytes(b'{"id": "x\\udc00", "text": "t"}\n' + good[3] + b"\n")
    (src / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + good[4] + b"\n")
    zst = zstandard.ZstdCompressor().compress(good[5] + b"\n")
    (src / "corrupt.jsonl.zst").write_bytes(zst[:8] + bytes(b ^ 0x5A for b in zst[8:]))
    (src / "cut.jsonl.zst").write_bytes(zst[: len(zst) // 2])
    (src / "cut.jsonl.gz").write_bytes(gzip.compress(good[6] + b"\n")[:-12])
    article = (data_dir / "jats" / "jstage_case_report_ja.xml").read_text(encoding="utf-8")
    (src / "deep.xml").write_text(article.replace("<body>", "<body>" + "<sec>" * 1200, 1), encoding="utf-8")
    (src / "sjis.xml").write_bytes(
        article.replace('encoding="UTF-8"', 'encoding="Shift_JIS"', 1).encode("cp932", "xmlcharrefreplace")
    )
    (src / "latin.txt").write_bytes(b"\xfd\xfe\xfd \x80\x80\n" * 3)
    (src / "cp932.txt").write_bytes(rows[7]["text"].encode("cp932", "replace"))
    (src / "table.csv").write_text("id,text\n1,x\n", encoding="utf-8")
    os.symlink(src / "loop.jsonl", src / "loop.jsonl")
    out = tmp_path / "out"
    assert main(["build", "--input", str(src), "--output", str(out), "--no-progress"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    m = json.loads((out / "manifest.json").read_text())
    assert adds_up(m)
    bad = pq.read_table(str(out / "quarantine")).to_pylist()
    assert sorted((q["file"], q["error"]) for q in bad) == [
        ("corrupt.jsonl.zst", "unreadable_file"),
        ("cut.jsonl.gz", "unreadable_file"),
        ("cut.jsonl.zst", "unreadable_file"),
        ("deep.jsonl", "invalid_json"),
        ("deep.xml", "invalid_xml"),
        ("latin.txt", "undecodable_text"),
        ("surrogate.jsonl", "invalid_id"),
    ]
    # read: a, deep (2), surrogate, bom, sjis.xml, cp932.txt; quarantined: the 7 above
    assert (m["counts"]["documents_read"], m["counts"]["quarantined"]) == (7, 7)
    assert {f["path"] for f in m["skipped_files"]} == {"table.csv", "loop.jsonl"}


def test_an_input_deleted_during_the_build_does_not_break_the_manifest(ray_local, data_dir, tmp_path):
    write_jsonl(tmp_path / "in" / "a.jsonl", records(data_dir, 3))
    write_jsonl(tmp_path / "in" / "b.jsonl", records(data_dir, 6)[3:])
    doomed = tmp_path / "in" / "a.jsonl"
    # one worker: unit 0 (a.jsonl) is read before unit 1 deletes it
    m = run(
        [tmp_path / "in"],
        tmp_path / "out",
        workers=1,
        fault={"unit": 1, "kind": "delete", "path": str(doomed)},
    )
    assert not doomed.exists() and adds_up(m) and m["counts"]["kept"] == 6
    assert {os.path.basename(i["path"]): i["bytes"] > 0 for i in m["inputs"]} == {
        "a.jsonl": True,
        "b.jsonl": True,
    }


# --- mistakes: one line, exit 2, the output untouched ------------------------------------------
def test_another_recipe_on_the_same_output_is_refused_unless_overwrite(ray_local, data_dir, tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", records(data_dir, 3))
    out = tmp_path / "out"
    run([tmp_path / "in.jsonl"], out)
    strict = load_recipe()
    next(s for s in strict.steps if s.use == "hiragana_ratio").params["min_ratio"] = 0.1
    with pytest.raises(
        UserError, match=r"another recipe \(changed: steps\[5\]\.min_ratio\); add --overwrite"
    ):
        run([tmp_path / "in.jsonl"], out, strict)
    assert json.loads((out / "manifest.json").read_text())["recipe"] == load_recipe().to_dict()
    m = run([tmp_path / "in.jsonl"], out, strict, overwrite=True)
    assert m["recipe"] == strict.to_dict() and adds_up(m)


def test_a_second_build_on_a_held_output_names_the_holder(ray_local, data_dir, tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", records(data_dir, 2))
    out = tmp_path / "out"
    out.mkdir()
    with output_lock(str(out)):
        assert (
            main(["build", "--input", str(tmp_path / "in.jsonl"), "--output", str(out), "--no-progress"]) == 2
        )
    err = one_line_error(capsys)
    assert f"pid {os.getpid()}" in err and "being written by another jmedcorpus run" in err
    assert not (out / ".work").exists()


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1:{port}", ":{port}; check the address"),  # Ray may name the host by its IP
        ("not an address", "expected 'auto', HOST:PORT or ray://HOST:10001"),
    ],
)
def test_cluster_addresses_fail_in_seconds_with_one_line(tmp_path, capsys, address, message):
    port = free_port()
    args = [
        "build",
        "--input",
        str(tmp_path),
        "--output",
        str(tmp_path / "out"),
        "--ray-address",
        address.format(port=port),
    ]
    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "胆管炎"}\n', encoding="utf-8")
    started = time.monotonic()
    assert main(args) == 2
    assert message.format(port=port) in one_line_error(capsys) and time.monotonic() - started < 15
    assert not (tmp_path / "out").exists()


def test_auto_without_a_cluster_and_ray_client_without_grpc(monkeypatch):
    import importlib.util

    from ray._private import services

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(services, "find_gcs_addresses", list)
    monkeypatch.setattr(services, "find_bootstrap_address", lambda temp_dir=None: None)
    with pytest.raises(UserError, match="no running Ray cluster found on this machine"):
        check_cluster_reachable("auto")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "grpc" else real(name, *a)
    )
    with pytest.raises(UserError, match=r"pip install 'ray\[client\]'"):
        check_cluster_reachable("ray://head:10001")


@pytest.mark.parametrize(
    ("code", "advice"),
    [(errno.ENOSPC, "no space left on the device"), (errno.EROFS, "read-only file system")],
)
def test_a_full_or_read_only_disk_is_one_line_and_leaves_no_temporaries(
    ray_local, data_dir, tmp_path, capsys, monkeypatch, code, advice
):
    import jmedcorpus.pipelines.build as build_module

    def full_disk(out, manifest, partials):  # the stats file's temporary was created, then the disk filled
        os.makedirs(os.path.join(out, "stats"), exist_ok=True)
        open(os.path.join(out, "stats", ".stats.json.tmp-1"), "w").close()
        raise OSError(code, os.strerror(code), os.path.join(out, "stats", ".stats.json.tmp-1"))

    monkeypatch.setattr(build_module, "_write_stats_and_card", full_disk)
    write_jsonl(tmp_path / "in.jsonl", records(data_dir, 2))
    out = tmp_path / "out"
    assert main(["build", "--input", str(tmp_path / "in.jsonl"), "--output", str(out), "--no-progress"]) == 2
    err = one_line_error(capsys)
    assert advice in err and "stats.json" in err
    assert not [f for _, _, fs in os.walk(out) for f in fs if ".tmp-" in f]


def test_an_unwritable_output_is_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "胆管炎"}\n', encoding="utf-8")
    locked = tmp_path / "ro"
    locked.mkdir()
    real = os.access
    # root may write anywhere, so the refusal the file system would give is stood in for here
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(locked) else real(p, mode))
    assert main(["build", "--input", str(tmp_path / "a.jsonl"), "--output", str(locked / "out")]) == 2
    assert "is not writable by this user" in one_line_error(capsys)


def test_task_failures_from_a_full_disk_say_so():
    try:
        raise OSError(errno.ENOSPC, "No space left on device", "/out/x")
    except OSError as e:
        error = describe_exception(e)
    assert error.startswith("OSError [ENOSPC] at test_build_faults.py:")
    summary = _summary("publish", [TaskFailure("unit-000001", error)], 3)
    assert "no space left on the device of the output" in summary.splitlines()[1]


def test_a_local_ray_never_joins_another_cluster(monkeypatch):
    # a `ray start` cluster, a stale /tmp/ray/ray_current_cluster or RAY_ADDRESS: ray.init()
    # without an address would join any of them, address="local" none
    import ray

    from jmedcorpus.pipelines.ray_tasks import ray_runtime

    calls = []
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: calls.append(kw))
    monkeypatch.setattr(ray, "shutdown", lambda: None)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with ray_runtime(3, None):
            pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert [(c["address"], c["num_cpus"]) for c in calls] == [("local", 3)]


def test_a_refused_cluster_connection_leaves_no_output(monkeypatch, tmp_path, capsys):
    import ray

    import jmedcorpus.pipelines.build as build_module
    from jmedcorpus.pipelines import ray_tasks

    def unauthenticated(**kw):
        raise ConnectionError("UNAUTHENTICATED: invalid or missing authentication token")

    for module in (ray_tasks, build_module):  # the port answers; Ray then refuses the client
        monkeypatch.setattr(module, "check_cluster_reachable", lambda *a, **kw: None)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", unauthenticated)
    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "胆管炎"}\n', encoding="utf-8")
    out = tmp_path / "out"
    previous = signal.getsignal(signal.SIGTERM)
    try:
        args = [
            "build",
            "--input",
            str(tmp_path / "a.jsonl"),
            "--output",
            str(out),
            "--ray-address",
            "h:6379",
        ]
        assert main([*args, "--no-progress"]) == 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert "RAY_AUTH_MODE=token" in one_line_error(capsys)
    assert not out.exists()


def test_a_cluster_that_does_not_answer_or_wants_a_token_is_one_line(monkeypatch):
    import threading

    import ray

    from jmedcorpus.pipelines import ray_tasks

    monkeypatch.setattr(ray_tasks, "check_cluster_reachable", lambda address, timeout_s: None)
    release = threading.Event()
    monkeypatch.setattr(ray, "init", lambda **kw: release.wait(30))  # a port that never answers
    started = time.monotonic()
    try:
        with pytest.raises(
            UserError, match=r"no answer from the cluster within 1 s.*RAY_AUTH_MODE=token"
        ) as e:
            ray_tasks.connect_cluster("10.255.255.1:6379", {}, timeout_s=1)
    finally:
        release.set()
    assert time.monotonic() - started < 10 and "\n" not in str(e.value)

    def unauthenticated(**kw):
        raise ConnectionError("UNAUTHENTICATED: invalid or missing authentication token")

    monkeypatch.setattr(ray, "init", unauthenticated)
    with pytest.raises(
        UserError, match=r"cannot connect \(ConnectionError\); clusters started with token"
    ) as e:
        ray_tasks.connect_cluster("10.255.255.1:6379", {}, timeout_s=5)
    assert "RAY_AUTH_TOKEN" in str(e.value) and "\n" not in str(e.value)


# --- processes: a foreign cluster, a closed pipe, SIGTERM --------------------------------------
def test_a_foreign_ray_cluster_does_not_capture_a_local_build(data_dir, tmp_path):
    import tempfile

    port, temp_dir = free_port(), tempfile.mkdtemp(prefix="jmc-ray-")
    env = cli_env()
    head = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "ray"),
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=1",
            "--include-dashboard=false",
            "--block",
            f"--temp-dir={temp_dir}",  # short: Ray's socket paths must fit 107 bytes
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait for its GCS to listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("ray start did not come up in 60 s")
        write_jsonl(tmp_path / "in.jsonl", records(data_dir, 3))
        env["RAY_ADDRESS"] = f"127.0.0.1:{port}"  # the most foreign: the environment points at it
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "jmedcorpus",
                "build",
                "--input",
                str(tmp_path / "in.jsonl"),
                "--output",
                str(tmp_path / "out"),
                "--workers",
                "1",
                "--engine",
                "ray",  # the engine a foreign cluster could capture
                "--no-progress",
            ],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "kept 3" in done.stdout
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # stopped by pid: `ray stop` would stop every Ray here
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.mark.parametrize("buffered", [True, False])
def test_a_closed_pipe_is_not_a_traceback(data_dir, tmp_path, buffered):
    # `| head` that has already left: the read end is closed before the command writes anything,
    # so every write gets EPIPE (reading some bytes first would let a small output fit the pipe
    # buffer and never fail). Buffered is what users get; PYTHONUNBUFFERED makes each print fail.
    write_jsonl(tmp_path / "in.jsonl", records(data_dir, 3))
    out = tmp_path / "out"
    assert main(["build", "--input", str(tmp_path / "in.jsonl"), "--output", str(out), "--no-progress"]) == 0
    env = cli_env()
    env.pop("PYTHONUNBUFFERED", None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    for args in (["steps"], ["steps", "doc_length"], ["stats", str(out), "--json"], ["stats", str(out)]):
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            p = subprocess.Popen(
                [sys.executable, "-m", "jmedcorpus", *args], stdout=write_end, stderr=subprocess.PIPE, env=env
            )
        finally:
            os.close(write_end)
        err = p.stderr.read().decode()
        assert p.wait(timeout=120) == 0, (args, err)
        assert "Traceback" not in err and "BrokenPipeError" not in err, (args, err)


def test_help_into_a_closed_pipe_is_not_a_traceback():
    env = cli_env()
    env.pop("PYTHONUNBUFFERED", None)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        p = subprocess.Popen(
            [sys.executable, "-m", "jmedcorpus", "steps", "--help"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
        )
    finally:
        os.close(write_end)
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0 and "BrokenPipeError" not in err, err


@pytest.mark.parametrize("engine", ["ray", "processes"])
def test_sigterm_says_interrupted_and_the_rerun_resumes(data_dir, tmp_path, engine):
    rows = records(data_dir, 14) * 30  # many small units: the build is still running when stopped
    for i, r in enumerate(rows):
        r["id"] = f"{r['id']}-{i}"
    write_jsonl(tmp_path / "in.jsonl", rows)
    recipe = tmp_path / "r.yaml"
    text = (data_dir.parents[1] / "recipes" / "ja_medical.yaml").read_text(encoding="utf-8")
    recipe.write_text(text.replace("chunk_mb: 16", "chunk_mb: 0.02"), encoding="utf-8")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "jmedcorpus", "build", str(recipe), "--input", str(tmp_path / "in.jsonl"),
           "--output", str(out), "--workers", "1", "--engine", engine, "--no-progress"]  # fmt: skip
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    units = out / ".work" / "units"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (units.exists() and any(units.glob("*/result.json"))):
        time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    if p.returncode == 0:
        pytest.skip("the build finished before SIGTERM arrived")
    assert p.returncode == 143 and "terminated (SIGTERM); re-run the same command to resume" in err
    assert not (out / "manifest.json").exists()
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    m = json.loads((out / "manifest.json").read_text())
    assert adds_up(m) and m["counts"]["records_in"] == len(rows)


def test_synth_that_failed_before_generating_does_not_lock_its_output(ray_local, data_dir, tmp_path, capsys):
    write_jsonl(tmp_path / "in.jsonl", records(data_dir, 4))
    corpus = tmp_path / "corpus"
    run([tmp_path / "in.jsonl"], corpus)
    qa = tmp_path / "qa"
    base = ["synth", "--input", str(corpus), "--output", str(qa), "--engine", "transformers", "--no-progress"]
    assert main([*base, "--model", str(tmp_path / "no-model"), "-n", "3"]) == 2
    assert "cannot load model" in one_line_error(capsys)
    assert main([*base, "--model", str(tmp_path / "no-model-either"), "-n", "5"]) == 2
    err = one_line_error(capsys)
    assert "other settings" not in err and "cannot load model" in err


def test_a_refused_build_creates_no_output_directory(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--input", str(tmp_path / "missing.jsonl"), "--output", str(out)]) == 2
    assert "no such file" in one_line_error(capsys) and not out.exists()
