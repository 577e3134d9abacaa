"""The forked-process engine does not lose a SIGTERM that arrives while the driver forks."""

import os
import signal

import pytest

from jmedcorpus.errors import Terminated, raise_terminated
from jmedcorpus.pipelines.fork_tasks import run_forked

# os.register_at_fork cannot be undone: the callback stays registered, armed only in the test
_ARMED = {"on": False}


def _signal_self_after_fork() -> None:
    if _ARMED["on"]:
        _ARMED["on"] = False
        os.kill(os.getpid(), signal.SIGTERM)  # lands while Python runs the at-fork callbacks


os.register_at_fork(after_in_parent=_signal_self_after_fork)


def _square(x: int) -> int:
    return x * x


def test_a_sigterm_during_fork_still_stops_the_driver():
    """Like loguru's lock release (datatrove imports it), a callback runs in the parent right
    after each fork; an exception raised there by the SIGTERM handler used to be printed and
    ignored, and the terminated build went on. (Blocking the signal during the fork was not
    enough: in a process with other threads, such as the test session's Ray, the kernel hands
    it to one of them and Python still runs the handler inside the callback.)"""
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        _ARMED["on"] = True
        with pytest.raises(Terminated):
            calls = [(f"t{i}", (i,)) for i in range(4)]
            run_forked(_square, calls, limit=1, desc="t", progress=False, retries=0)
    finally:
        _ARMED["on"] = False
        signal.signal(signal.SIGTERM, previous)


def _handlers() -> tuple:
    return signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)


def test_children_get_the_default_handlers_back():
    results, failures = run_forked(_handlers, [("h", ())], limit=1, desc="t", progress=False, retries=0)
    assert not failures and results["h"] == (signal.SIG_DFL, signal.default_int_handler)


def test_the_driver_keeps_its_handlers():
    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        run_forked(_square, [("a", (2,))], limit=1, desc="t", progress=False, retries=0)
        assert signal.getsignal(signal.SIGTERM) is raise_terminated
    finally:
        signal.signal(signal.SIGTERM, previous)


def _pid_and_square(x: int) -> tuple[int, int]:
    if x == 3:
        raise ValueError("task failure, not a crash")
    return os.getpid(), x * x


def test_a_worker_runs_task_after_task_and_survives_a_failing_one():
    """Two workers for six tasks: every task answered, by at most two processes, none the
    driver; the task that raised is a failure and its worker goes on."""
    calls = [(f"t{i}", (i,)) for i in range(6)]
    results, failures = run_forked(_pid_and_square, calls, limit=2, desc="t", progress=False, retries=0)
    assert failures == [("t3", failures[0][1])] and failures[0][1].startswith("ValueError at ")
    assert {label: sq for label, (_, sq) in results.items()} == {f"t{i}": i * i for i in (0, 1, 2, 4, 5)}
    pids = {pid for pid, _ in results.values()}
    assert len(pids) <= 2 and os.getpid() not in pids


def _die_once_at_2(marker: str, x: int) -> int:
    if x == 2 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)  # a crash: the worker is gone without answering
    return x * x


def test_a_dead_worker_is_replaced_and_only_its_task_re_run(tmp_path):
    marker = str(tmp_path / "died")
    calls = [(f"t{i}", (marker, i)) for i in range(5)]
    results, failures = run_forked(_die_once_at_2, calls, limit=2, desc="t", progress=False, retries=1)
    assert not failures and results == {f"t{i}": i * i for i in range(5)}
    os.remove(marker)
    results, failures = run_forked(_die_once_at_2, calls, limit=1, desc="t", progress=False, retries=0)
    assert failures == [("t2", "WorkerCrashedError (the worker process died 1 times, exit code 1)")]
    assert results == {f"t{i}": i * i for i in (0, 1, 3, 4)}


def test_giving_a_task_to_a_worker_that_died_idle_does_not_raise():
    """An idle worker killed from outside (the OOM killer): giving it a task raises nothing, and
    its results pipe reports EOF, which run_forked treats as a death (the task goes again)."""
    import multiprocessing

    from jmedcorpus.pipelines.fork_tasks import _Worker

    worker = _Worker(multiprocessing.get_context("fork"), _square, [("a", (2,))])
    worker.process.kill()
    worker.process.join()
    for _ in range(3):  # the first send may still fit in the pipe's buffer; later ones break it
        worker.give(0, 0)
    with pytest.raises(EOFError):
        worker.results.recv()
    assert worker.stop(kill=True) is not None
