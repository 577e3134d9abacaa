"""Errors the CLI reports as one line with exit code 2 (the user can fix them)."""


class UserError(Exception):
    """A problem with the command line, the recipe or the inputs; the message says how to fix it.

    Messages must never contain document text (medical text may hold patient information).
    """


class RunFailed(Exception):
    """Some tasks of a run (``build``, ``synth``, ``tokenize``) failed; ``str()`` is the per-task
    summary, without document text. Completed work is kept for the re-run."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that ``finally`` blocks run (Ray is shut down) and
    the CLI prints how to resume. A BaseException, like KeyboardInterrupt: no ``except Exception``
    swallows it."""


def raise_terminated(signum, frame):
    raise Terminated()


def on_sigterm_raise_terminated():
    """Make SIGTERM raise :class:`Terminated` (main thread only); returns the previous handler,
    or None where signals cannot be set. ``ray.init`` installs its own handler (``sys.exit(15)``),
    so this is called again after it."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, raise_terminated)
