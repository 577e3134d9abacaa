"""Run tasks in forked child processes of this one: the single-machine engine for small builds.

Why not Ray for everything: an embedded local Ray costs about 4.5 s per command on a 2-core
machine (``ray.init`` 2.6 s, first tasks importing the package 0.8 s, ``ray.shutdown`` 1.1 s),
which is most of the wall clock of a build of a few MB. A forked child starts in milliseconds
and inherits what the driver loaded (the MeCab dictionary, the fastText model, a decontamination
index) copy-on-write, so each heavy resource is loaded once per command, not once per worker.

One child per task, at most ``limit`` at a time. The outcome of every task is checked as Ray's
is: an exception in a task is reported (type and code location, never the message), and a child
that died without answering (a segfault, ``os._exit``, the OOM killer) is re-run up to
:data:`~jmedcorpus.pipelines.ray_tasks.TASK_RETRIES` more times, exactly that task. Fork is
only used on Linux, where it is safe for what the driver holds (no threads that the children
need; Arrow and jemalloc re-initialise after fork).
"""

from __future__ import annotations

import errno
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from tqdm import tqdm


def describe_plain_exception(exc: BaseException) -> str:
    """``Type [ERRNO] at file:line`` of the innermost frame, without the message (it could
    quote document text)."""
    tb = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    where = f" at {os.path.basename(tb[-1].filename)}:{tb[-1].lineno}" if tb else ""
    code = (
        f" [{errno.errorcode[exc.errno]}]"
        if isinstance(exc, OSError) and exc.errno in errno.errorcode
        else ""
    )
    return f"{type(exc).__name__}{code}{where}"


def _die_with_parent() -> None:
    """Ask Linux to kill this child when the driver dies (even by SIGKILL): no orphan keeps
    writing into an output that a re-run is about to use."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux's libc: the daemon flag is the fallback
        pass


# Signals put off while the driver forks: a handler that raises (SIGTERM's Terminated, SIGINT's
# KeyboardInterrupt) while Python runs the libraries' at-fork callbacks (loguru, which datatrove
# imports, releases its locks there) has its exception printed and ignored, and the signal is
# lost: a terminated build went on running. Blocking the signal is not enough (the kernel hands
# a process-directed signal to any thread, e.g. one of Arrow's, and Python then runs the handler
# in the main thread at its next chance, which can be inside a callback), so the handlers only
# record it during the fork, and the signal is raised again right after.
_PUT_OFF_DURING_FORK = (signal.SIGTERM, signal.SIGINT)


def start_child(process) -> None:
    """``process.start()`` (a fork) with SIGTERM and SIGINT put off until it returns."""
    if threading.current_thread() is not threading.main_thread():  # handlers live in the main thread
        process.start()
        return
    pending: list[int] = []
    previous = {
        s: signal.signal(s, lambda signum, _frame: pending.append(signum)) for s in _PUT_OFF_DURING_FORK
    }
    try:
        process.start()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(pending):  # delivered now, outside the at-fork callbacks
            signal.raise_signal(s)


def _child(fn: Callable, args: tuple, conn) -> None:
    """Body of a forked child: run the task, send ``("ok", result)`` or ``("error", text)``."""
    # The driver's handler raises Terminated for its own cleanup; a child just stops.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # not the fork's recorder
    _die_with_parent()
    try:
        message = ("ok", fn(*args))
    except BaseException as e:  # noqa: BLE001 - reported to the driver as one line
        message = ("error", describe_plain_exception(e))
    try:
        conn.send(message)
    except Exception as e:  # noqa: BLE001 - an unpicklable result is the task's failure
        conn.send(("error", describe_plain_exception(e)))
    conn.close()
    # Skip the inherited atexit handlers and finalizers: they belong to the driver.
    os._exit(0)


def run_forked(
    fn: Callable,
    calls: list[tuple[str, tuple]],
    *,
    limit: int,
    desc: str,
    progress: bool,
    retries: int,
    on_result: Callable[[str, Any], None] | None = None,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Run ``fn(*args)`` in a forked child for each ``(label, args)``; at most ``limit`` at once.

    Returns the results by label and ``(label, error)`` for each task that failed."""
    ctx = multiprocessing.get_context("fork")
    queue = deque((label, args, 0) for label, args in calls)
    running: dict = {}  # reading end -> (label, args, attempt, process)
    results: dict[str, Any] = {}
    failures: list[tuple[str, str]] = []
    bar = tqdm(total=len(calls), desc=desc, unit="task", disable=not progress, leave=False)
    try:
        while queue or running:
            while queue and len(running) < limit:
                label, args, attempt = queue.popleft()
                reader, writer = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(fn, args, writer), daemon=True)
                start_child(process)
                writer.close()  # the child holds the only writing end: EOF means it is gone
                running[reader] = (label, args, attempt, process)
            for reader in multiprocessing.connection.wait(list(running)):
                label, args, attempt, process = running.pop(reader)
                try:
                    status, value = reader.recv()
                except (EOFError, OSError):
                    status, value = "died", None
                reader.close()
                process.join()
                if status == "died":
                    if attempt < retries:
                        queue.append((label, args, attempt + 1))
                        continue
                    value = f"WorkerCrashedError (the worker process died {attempt + 1} times, exit code {process.exitcode})"
                    status = "error"
                if status == "ok":
                    results[label] = value
                    if on_result:
                        on_result(label, value)
                else:
                    failures.append((label, value))
                bar.update(1)
    finally:
        bar.close()
        for _, _, _, process in running.values():
            process.kill()
            process.join()
    return results, failures
