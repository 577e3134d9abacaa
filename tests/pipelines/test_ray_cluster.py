"""Builds on a real multi-node Ray cluster on this machine: a head (no CPUs, so no task runs
there) and two worker nodes of one CPU each, started with ``ray start`` on their own ports and
stopped by pid. The cluster uses Ray's token authentication (the default of ``ray start`` since
Ray 2.60): every process, the build included, gets ``RAY_AUTH_MODE=token`` and the token in
``RAY_AUTH_TOKEN``; ``HOME`` is a temporary folder, so nothing is written to ``~/.ray``."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest
from seaweedfs_server import free_ports

pytestmark = [pytest.mark.ray, pytest.mark.cluster]
REPORTS = "case_reports_ja.jsonl"
NODE_PORT_FLAGS = ("--node-manager-port", "--object-manager-port", "--dashboard-agent-listen-port",
                   "--dashboard-agent-grpc-port", "--runtime-env-agent-port", "--metrics-export-port")  # fmt: skip


class Cluster:
    def __init__(self):
        self.temp = tempfile.mkdtemp(prefix="jmc-rc-")  # short: Ray's socket paths must fit 107 bytes
        home = os.path.join(self.temp, "home")
        os.makedirs(home)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        self.env.update(
            HOME=home,
            RAY_USAGE_STATS_ENABLED="0",
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN=secrets.token_hex(32),
        )
        self.ray = os.path.join(os.path.dirname(sys.executable), "ray")
        self.port = free_ports(1)[0]
        self.address = f"127.0.0.1:{self.port}"
        self.node_ports: dict[str, int] = {}

    def start(self, name: str, *args: str) -> None:
        ports = free_ports(len(NODE_PORT_FLAGS))
        self.node_ports[name] = ports[0]
        flags = [f"{flag}={port}" for flag, port in zip(NODE_PORT_FLAGS, ports)]
        cmd = [self.ray, "start", *args, "--node-ip-address=127.0.0.1", f"--temp-dir={self.temp}", *flags]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]

    def node_processes(self, name: str | None = None) -> list[psutil.Process]:
        """The cluster's processes (those of one node: its raylet and the raylet's children)."""
        found = []
        for p in psutil.process_iter(["cmdline"]):
            cmd = " ".join(p.info["cmdline"] or [])
            if self.temp in cmd and (name is None or f"--node_manager_port={self.node_ports[name]}" in cmd):
                found.append(p)
        if name is not None:
            found += [c for p in list(found) for c in p.children(recursive=True)]
        return found

    def kill(self, name: str | None = None) -> None:
        for p in self.node_processes(name):
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        c.start("head", "--head", f"--port={c.port}", "--num-cpus=0", "--include-dashboard=false")
        for i in (1, 2):
            c.start(f"worker{i}", f"--address={c.address}", "--num-cpus=1", f'--resources={{"node_{i}": 1}}')
        yield c
    finally:
        c.kill()
        shutil.rmtree(c.temp, ignore_errors=True)


def _corpus(data_dir: Path, path: Path, copies: int) -> int:
    rows = [json.loads(line) for line in (data_dir / REPORTS).read_text(encoding="utf-8").splitlines()]
    rows = [{**r, "id": f"{r['id']}-{i}"} for i in range(copies) for r in rows]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return len(rows)


def _build(cluster: Cluster, args: list[str], timeout: int = 300, **popen):
    cmd = [sys.executable, "-m", "jmedcorpus", "build", *args, "--no-progress"]
    return subprocess.Popen(
        cmd, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
    )


def _same_shards(a: Path, b: Path) -> bool:
    names = sorted(os.listdir(a / "data"))
    return names == sorted(os.listdir(b / "data")) and all(
        pq.read_table(a / "data" / n).equals(pq.read_table(b / "data" / n)) for n in names
    )


def _small_units_recipe(data_dir: Path, tmp_path: Path) -> str:
    recipe = tmp_path / "r.yaml"
    text = (data_dir.parents[1] / "recipes" / "ja_medical.yaml").read_text(encoding="utf-8")
    recipe.write_text(text.replace("chunk_mb: 16", "chunk_mb: 0.05"), encoding="utf-8")
    return str(recipe)


def test_a_cluster_build_equals_the_local_build(cluster, data_dir, tmp_path):
    corpus = tmp_path / "in.jsonl"
    _corpus(data_dir, corpus, 3)
    recipe = _small_units_recipe(data_dir, tmp_path)
    common = [recipe, "--input", str(corpus), "--workers", "2"]
    on_cluster = _build(cluster, [*common, "--output", str(tmp_path / "c"), "--ray-address", cluster.address])
    _, err = on_cluster.communicate(timeout=300)
    assert on_cluster.returncode == 0, err[-2000:]
    local = _build(cluster, [*common, "--output", str(tmp_path / "l"), "--engine", "processes"])
    _, err = local.communicate(timeout=300)
    assert local.returncode == 0, err[-2000:]
    assert _same_shards(tmp_path / "c", tmp_path / "l")
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["ray_address"] == cluster.address


def test_a_worker_node_killed_mid_build_is_survived_or_reported_and_the_rerun_resumes(
    cluster, data_dir, tmp_path
):
    corpus = tmp_path / "in.jsonl"
    n = _corpus(data_dir, corpus, 20)
    out = tmp_path / "out"
    args = [_small_units_recipe(data_dir, tmp_path), "--input", str(corpus), "--output", str(out)]
    args += ["--workers", "2", "--ray-address", cluster.address]
    p = _build(cluster, args)
    units = out / ".work" / "units"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (units.exists() and any(units.glob("*/result.json"))):
        time.sleep(0.2)
    cluster.kill("worker1")
    started = time.monotonic()
    _, err = p.communicate(timeout=400)
    assert time.monotonic() - started < 400
    if p.returncode != 0:  # the failed tasks, one line each, and how to go on
        assert p.returncode == 1 and "task(s) failed" in err and "re-run the same command" in err, err[-2000:]
        assert "Traceback" not in err
    done = _build(cluster, args)
    _, err = done.communicate(timeout=400)
    assert done.returncode == 0, err[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    c = manifest["counts"]
    assert c["records_in"] == n == c["kept"] + c["removed"] + c["quarantined"]


def test_a_cluster_build_without_the_token_is_one_line(cluster, data_dir, tmp_path):
    corpus = tmp_path / "in.jsonl"
    _corpus(data_dir, corpus, 1)
    env = {k: v for k, v in cluster.env.items() if k not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    cmd = [sys.executable, "-m", "jmedcorpus", "build", "--input", str(corpus), "--output", str(tmp_path / "o"),
           "--ray-address", cluster.address, "--no-progress"]  # fmt: skip
    env["JMEDCORPUS_RAY_CONNECT_TIMEOUT_S"] = "30"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    err = done.stderr.strip()
    assert done.returncode == 2 and "RAY_AUTH_MODE=token" in err and "\n" not in err, err[-2000:]
    assert cluster.env["RAY_AUTH_TOKEN"] not in err
