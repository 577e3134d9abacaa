"""Run a list of tasks with at most N in flight, a progress bar, and failures collected, on the
engine of the command: Ray (an embedded local Ray or a cluster) or forked processes
(:mod:`jmedcorpus.pipelines.fork_tasks`, small local builds; see :func:`choose_engine`).

Why not datatrove's RayPipelineExecutor: measured, it exits 0 when a rank raised ("Only 2/3
tasks completed") and hangs when a rank's process dies hard. Here every task's outcome is
checked: an exception or a worker that died (after Ray's retries) is recorded per task and the
caller fails the build with a per-task summary and a non-zero exit.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from jmedcorpus.errors import UserError, on_sigterm_raise_terminated
from jmedcorpus.pipelines.fork_tasks import describe_plain_exception, run_forked

# Ray re-runs a task whose worker process died (OOM kill, segfault, SIGKILL) this many times.
TASK_RETRIES = 2


@dataclass
class TaskFailure:
    label: str
    error: str  # exception type and the code location; never the message (it could quote text)


CONNECT_TIMEOUT_S = float(os.environ.get("JMEDCORPUS_RAY_CONNECT_TIMEOUT_S", "60"))
AUTH_HINT = (
    "clusters started with token authentication (Ray 2.60 default) need RAY_AUTH_MODE=token and the "
    "cluster's token in RAY_AUTH_TOKEN (or RAY_AUTH_TOKEN_PATH) on this machine"
)


#: ``--engine`` values: ``ray`` (an embedded local Ray, or the cluster of ``--ray-address``),
#: ``processes`` (forked child processes of the command, this machine only) and ``auto``.
ENGINES = ("auto", "ray", "processes")
#: ``auto`` runs a local build of less input than this in forked processes: there Ray's fixed
#: cost (about 4.5 s a command on 2 cores) would be over ~5 % of the build.
PROCESSES_MAX_INPUT_BYTES = 64 << 20

_engine = "ray"  # what run_tasks uses; set by task_runtime for the duration of a command


def choose_engine(engine: str, address: str | None, input_bytes: int) -> str:
    """The engine a command runs on: ``engine`` unless it is ``auto``; a one-line UserError for
    a combination that cannot work."""
    fork_ok = sys.platform.startswith("linux")
    if engine not in ENGINES:
        raise UserError(f"--engine {engine}: expected one of {', '.join(ENGINES)}")
    if engine == "processes":
        if address:
            raise UserError(
                "--engine processes runs on this machine only; drop --ray-address or use --engine ray"
            )
        if not fork_ok:
            raise UserError("--engine processes needs Linux (fork); use --engine ray on this system")
        return engine
    if engine == "ray":
        return engine
    ray = sys.modules.get("ray")
    ray_running = ray is not None and ray.is_initialized()  # a caller's Ray: use it, never fork it
    if address or ray_running or not fork_ok or input_bytes >= PROCESSES_MAX_INPUT_BYTES:
        return "ray"
    return "processes"


@contextlib.contextmanager
def task_runtime(engine: str, workers: int, address: str | None):
    """Run the block's :func:`run_tasks` calls on ``engine`` (``ray`` or ``processes``)."""
    global _engine
    if engine == "ray":
        with ray_runtime(workers, address):
            yield
        return
    previous, _engine = _engine, engine
    try:
        yield
    finally:
        _engine = previous


@contextlib.contextmanager
def ray_runtime(workers: int, address: str | None):
    """Use the running Ray, connect to ``address``, or start an embedded local Ray with
    ``workers`` CPUs; shut down in ``finally`` only what this call started.

    Without ``address`` the runtime is always a new local one (``address="local"``): a cluster
    started with ``ray start`` on this machine, a stale ``/tmp/ray/ray_current_cluster`` or
    ``RAY_ADDRESS`` in the environment must not capture (and then refuse) a local build."""
    import ray

    if ray.is_initialized():
        yield
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
    if address:
        connect_cluster(address, kwargs)
    else:
        ray.init(address="local", num_cpus=workers, **kwargs)
    on_sigterm_raise_terminated()  # ray.init replaced it with sys.exit(15): no resume line, no cleanup
    try:
        yield
    finally:
        ray.shutdown()


def cluster_endpoint(address: str) -> tuple[str, int] | None:
    """``(host, port)`` that ``address`` leads to, or None for a Ray Client address
    (``ray://``); a one-line UserError when ``auto`` finds no cluster or the form is wrong."""
    from ray._private.services import canonicalize_bootstrap_address, parse_address

    if address.startswith("ray://"):
        return None
    try:
        resolved = canonicalize_bootstrap_address(address)
    except (ConnectionError, ValueError):
        resolved = None
    if resolved is None:
        if address == "auto":
            raise UserError(
                "--ray-address auto: no running Ray cluster found on this machine (no RAY_ADDRESS, no "
                "`ray start`); start one with `ray start --head`, give --ray-address HOST:6379, or drop "
                "--ray-address for a local build"
            )
        raise UserError(f"--ray-address {address}: expected 'auto', HOST:PORT or ray://HOST:10001")
    host, port = parse_address(resolved)
    return host, int(port)


def check_cluster_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Fail in seconds, with one line, when ``address`` cannot lead to a cluster: ``auto`` with no
    cluster, a wrong form, ``ray://`` without Ray Client, nothing listening at HOST:PORT."""
    import importlib.util
    import socket

    endpoint = cluster_endpoint(address)
    if endpoint is None and importlib.util.find_spec("grpc") is None:
        raise UserError(
            f"--ray-address {address}: ray:// needs Ray Client, which is not installed; "
            "run `pip install 'ray[client]'` (the cluster's Ray version), or run on the head node with "
            "--ray-address auto"
        )
    if endpoint is not None:
        try:
            socket.create_connection(endpoint, timeout=timeout_s).close()
        except OSError:
            raise UserError(
                f"--ray-address {address}: nothing answers at {endpoint[0]}:{endpoint[1]}; check the "
                "address (`ray status` on the head node prints it) and that the cluster is running"
            ) from None


@contextlib.contextmanager
def _stderr_hidden():
    """Send file descriptor 2 to a scratch file while connecting: Ray's C++ client logs every
    failed attempt there (a missing auth token gives ~20 lines in 20 s), where the user should
    see one line saying what to fix."""
    import tempfile

    saved = os.dup(2)
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def connect_cluster(address: str, kwargs: dict, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """``ray.init(address)`` bounded in time, every failure one line with its fix."""
    import threading

    import ray

    check_cluster_reachable(address, min(10.0, timeout_s))
    outcome: dict[str, BaseException | None] = {}

    def init() -> None:
        try:
            ray.init(address=address, **kwargs)
            outcome["error"] = None
        except BaseException as e:  # noqa: BLE001 - reported below as one line
            outcome["error"] = e

    thread = threading.Thread(target=init, daemon=True)  # ray.init has no timeout of its own
    with _stderr_hidden():
        thread.start()
        thread.join(timeout_s)
    if "error" not in outcome:
        raise UserError(
            f"--ray-address {address}: no answer from the cluster within {timeout_s:.0f} s; check the "
            f"address and the Ray version, or {AUTH_HINT} (JMEDCORPUS_RAY_CONNECT_TIMEOUT_S sets the wait)"
        )
    error = outcome["error"]
    if error is not None:
        text = str(error).lower()
        hint = (
            AUTH_HINT
            if ("auth" in text or "token" in text or "unauthenticated" in text)
            else (
                "check the address, that the cluster runs the same Ray and Python versions, and " + AUTH_HINT
            )
        )
        raise UserError(f"--ray-address {address}: cannot connect ({type(error).__name__}); {hint}") from None


def describe_exception(exc: BaseException) -> str:
    """``Type at file:line`` of the innermost frame, without the message."""
    import ray.exceptions

    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = exc.cause if exc.cause is not None else exc
        if isinstance(cause, ray.exceptions.RayTaskError):
            return type(cause).__name__
        exc = cause
    if isinstance(exc, ray.exceptions.WorkerCrashedError):
        return f"WorkerCrashedError (the worker process died {TASK_RETRIES + 1} times)"
    return describe_plain_exception(exc)


def run_tasks(
    fn: Callable,
    calls: list[tuple[str, tuple]],
    *,
    limit: int,
    desc: str,
    progress: bool,
    on_result: Callable[[str, Any], None] | None = None,
) -> tuple[dict[str, Any], list[TaskFailure]]:
    """Run ``fn(*args)`` as Ray tasks for each ``(label, args)``; at most ``limit`` in flight."""
    if _engine == "processes":
        done, failed = run_forked(
            fn, calls, limit=limit, desc=desc, progress=progress, retries=TASK_RETRIES, on_result=on_result
        )
        return done, [TaskFailure(label, error) for label, error in failed]
    import ray

    remote = ray.remote(num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False)(fn)
    results: dict[str, Any] = {}
    failures: list[TaskFailure] = []
    pending: dict = {}
    queue = list(calls)
    bar = tqdm(total=len(calls), desc=desc, unit="task", disable=not progress, leave=False)
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                label, args = queue.pop(0)
                pending[remote.remote(*args)] = label
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                label = pending.pop(ref)
                try:
                    results[label] = ray.get(ref)
                    if on_result:
                        on_result(label, results[label])
                except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal here
                    failures.append(TaskFailure(label, describe_exception(e)))
                bar.update(1)
    finally:
        bar.close()
    return results, failures
