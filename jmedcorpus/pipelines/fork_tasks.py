"""Run tasks in forked child processes of this one: the single-machine engine for small builds.

Why not Ray for everything: an embedded local Ray costs about 4.5 s per command on a 2-core
machine (``ray.init`` 2.6 s, first tasks importing the package 0.8 s, ``ray.shutdown`` 1.1 s),
which is most of the wall clock of a build of a few MB. A forked child starts in milliseconds
and inherits what the driver loaded (the MeCab dictionary, the fastText model, a decontamination
index) copy-on-write, so each heavy resource is loaded once per command, not once per worker.

At most ``limit`` forked workers per call, each running tasks one after another (forked when the
stage starts, so they see what the driver holds at that point). The outcome of every task is
checked as Ray's is: an exception in a task is reported (type and code location, never the
message), and when a worker dies without answering (a segfault, ``os._exit``, the OOM killer) a
new one is forked and exactly the task it ran is re-run, up to
:data:`~jmedcorpus.pipelines.ray_tasks.TASK_RETRIES` more times. Fork is
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


def _worker(fn: Callable, calls: list, tasks, results) -> None:
    """Body of a forked worker: run ``fn(*calls[i][1])`` for each index ``i`` read from
    ``tasks`` until ``None``, answering ``("ok", result)`` or ``("error", text)`` on ``results``
    for each. The calls are inherited with the fork: only indices and results cross the pipes."""
    # The driver's handler raises Terminated for its own cleanup; a worker just stops.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # not the fork's recorder
    _die_with_parent()
    while True:
        try:
            index = tasks.recv()
        except EOFError:  # the driver is gone or done
            break
        if index is None:
            break
        try:
            message = ("ok", fn(*calls[index][1]))
        except BaseException as e:  # noqa: BLE001 - reported to the driver as one line
            message = ("error", describe_plain_exception(e))
        try:
            results.send(message)
        except Exception as e:  # noqa: BLE001 - an unpicklable result is the task's failure
            results.send(("error", describe_plain_exception(e)))
    results.close()
    # Skip the inherited atexit handlers and finalizers: they belong to the driver.
    os._exit(0)


class _Worker:
    """A forked worker and the driver's ends of its two pipes; ``task`` is ``(index, attempt)``
    of the call it runs, or None when idle."""

    def __init__(self, ctx, fn: Callable, calls: list) -> None:
        task_reader, self.tasks = ctx.Pipe(duplex=False)
        self.results, result_writer = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_worker, args=(fn, calls, task_reader, result_writer), daemon=True)
        start_child(self.process)
        task_reader.close()
        result_writer.close()  # the worker holds the only writing end: EOF means it is gone
        self.task: tuple[int, int] | None = None

    def give(self, index: int, attempt: int) -> None:
        self.task = (index, attempt)
        try:
            self.tasks.send(index)
        except OSError:  # died while idle: its results pipe gives EOF, and the task goes again
            pass

    def stop(self, kill: bool = False) -> int | None:
        if kill:
            self.process.kill()
        else:
            try:
                self.tasks.send(None)
            except OSError:  # already gone
                pass
        self.tasks.close()
        self.results.close()
        self.process.join()
        return self.process.exitcode


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
    """Run ``fn(*args)`` for each ``(label, args)`` in at most ``limit`` forked workers.

    A worker runs one task after another: a fresh fork per task paid its first-call costs every
    time (copy-on-write faults, cold caches: a 256 KB unit took 0.23 s as a new child's first
    task, 0.20 s as its second). A worker that dies without answering is replaced, and only the
    task it was running is re-run (up to ``retries`` more times).

    Returns the results by label and ``(label, error)`` for each task that failed."""
    ctx = multiprocessing.get_context("fork")
    queue = deque((i, 0) for i in range(len(calls)))
    workers: list[_Worker] = []
    results: dict[str, Any] = {}
    failures: list[tuple[str, str]] = []
    bar = tqdm(total=len(calls), desc=desc, unit="task", disable=not progress, leave=False)
    try:
        while queue or any(w.task for w in workers):
            for w in workers:
                if w.task is None and queue:
                    w.give(*queue.popleft())
            while queue and len(workers) < limit:
                w = _Worker(ctx, fn, calls)
                workers.append(w)
                w.give(*queue.popleft())
            busy = {w.results: w for w in workers if w.task is not None}
            for reader in multiprocessing.connection.wait(list(busy)):
                w = busy[reader]
                (index, attempt), w.task = w.task, None
                label = calls[index][0]
                try:
                    status, value = reader.recv()
                except (EOFError, OSError):
                    workers.remove(w)
                    exitcode = w.stop(kill=True)
                    if attempt < retries:
                        queue.appendleft((index, attempt + 1))
                        continue
                    status = "error"
                    value = f"WorkerCrashedError (the worker process died {attempt + 1} times, exit code {exitcode})"
                if status == "ok":
                    results[label] = value
                    if on_result:
                        on_result(label, value)
                else:
                    failures.append((label, value))
                bar.update(1)
    finally:
        bar.close()
        for w in workers:
            w.stop(kill=w.task is not None)
    return results, failures
