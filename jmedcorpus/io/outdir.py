"""An output directory has one writer at a time, and its faults are one line with the fix.

``output_lock(out)`` takes an exclusive ``flock`` on ``OUT/.lock`` for the whole run and writes
who holds it (pid, host, start time) into the file, so a second ``build`` or ``synth`` on the
same output stops at once with one line naming the holder instead of corrupting the first.
The lock goes with the process: a killed run leaves no stale lock (the kernel releases it).
On filesystems without ``flock`` (some NFS mounts) the lock is skipped.

``os_error_message`` turns the operating system's refusals (disk full, read-only, permission)
into one line naming the path and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time

from jmedcorpus.errors import UserError

LOCK_FILE = ".lock"


def check_output_dir(out: str, marker: str, what: str, given: str | None = None) -> None:
    """One line when ``out`` is a file, or a non-empty folder that ``what`` did not write
    (it has no ``marker`` file): a tool must never write into someone's thesis folder."""
    given = given or out
    if os.path.isfile(out):
        raise UserError(f"--output {given} is a file; give a directory (it is created if missing)")
    if (
        os.path.isdir(out)
        and set(os.listdir(out)) - {LOCK_FILE}
        and not os.path.exists(os.path.join(out, marker))
    ):
        raise UserError(f"--output {given} is not empty and not {what}; choose a new or empty directory")


def check_writable(out: str, flag: str = "--output") -> None:
    """One line when ``out`` (or the nearest existing folder above it) cannot be written."""
    probe = out
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if os.path.isdir(probe) and not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {out}: {probe} is not writable by this user; choose another {flag}")


@contextlib.contextmanager
def output_lock(out: str, flag: str = "--output"):
    """Hold ``OUT/.lock`` exclusively for the duration; a held lock is a one-line UserError."""
    path = os.path.join(out, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            raise UserError(
                f"{flag} {out} is being written by another jmedcorpus run ({holder}); wait for it to "
                f"finish or stop it, or choose another {flag}"
            ) from None
        except OSError as e:
            if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.write(fd, json.dumps(info).encode())
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {info['pid']} on {info['host']}, since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


ADVICE = {
    errno.ENOSPC: "no space left on the device; free space there, then re-run the same command (completed work is kept)",
    errno.EDQUOT: "disk quota exceeded; free space there, then re-run the same command (completed work is kept)",
    errno.EACCES: "permission denied; choose an output directory you can write",
    errno.EPERM: "operation not permitted; choose an output directory you can write",
    errno.EROFS: "read-only file system; choose an output directory on a writable file system",
}


def os_error_message(e: OSError, fallback_path: str) -> str | None:
    """One line for an OSError the user must fix (disk full, quota, permission, read-only), else None."""
    advice = ADVICE.get(e.errno)
    if advice is None:
        return None
    return f"cannot write {e.filename or fallback_path}: {advice}"
