"""The ``jmedcorpus`` command. Thin: parses arguments, calls the package, prints results.

Errors the user can fix are one line on stderr and exit code 2; a build whose tasks failed exits
1 with a per-task summary. No document text is ever printed.
"""

from __future__ import annotations

import argparse
import sys

from jmedcorpus import __version__
from jmedcorpus.errors import RunFailed, Terminated, UserError, on_sigterm_raise_terminated

# every subcommand: its module (options next to its code, kept light to import) and functions
_SUBCOMMANDS = (
    ("build", "jmedcorpus.pipelines.build_cli", "add_build_parser", "cmd_build"),
    ("synth", "jmedcorpus.pipelines.synth_cli", "add_synth_parser", "cmd_synth"),
    ("tokenize", "jmedcorpus.pipelines.tokenize_cli", "add_tokenize_parser", "cmd_tokenize"),
    ("train-domain", "jmedcorpus.domain.cli", "add_train_domain_parser", "cmd_train_domain"),
    ("stats", "jmedcorpus.report.stats_cli", "add_stats_parser", "cmd_stats"),
    ("inspect", "jmedcorpus.report.inspect", "add_inspect_parser", "cmd_inspect"),
    ("steps", "jmedcorpus.report.steps_cli", "add_steps_parser", "cmd_steps"),
)
_COMMANDS = {name: (module, run) for name, module, _, run in _SUBCOMMANDS}


def _build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser; each subcommand's options are declared next to its code. With
    ``only`` (a subcommand's name) just that subcommand is declared: importing every command
    module to declare all of them took 80 ms of each command's start."""
    parser = argparse.ArgumentParser(
        prog="jmedcorpus",
        description="Curate Japanese medical text into LLM training data.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `jmedcorpus COMMAND --help` for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"jmedcorpus {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    import importlib

    for name, module, add, _ in _SUBCOMMANDS:  # in the order `jmedcorpus --help` lists them
        if only is None or name == only:
            getattr(importlib.import_module(module), add)(sub)
    return parser


def _named_command(argv: list[str]) -> str | None:
    """The subcommand named by ``argv``'s first word that is not an option, if it is one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in _COMMANDS else None


def _command(name: str):
    """The function of one subcommand, importing only its own module (a build does not pay for
    the report's or synth's imports)."""
    import importlib

    module, function = _COMMANDS[name]
    return getattr(importlib.import_module(module), function)


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser(_named_command(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit:  # --help, or a usage error: argparse printed and exits
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # `jmedcorpus build --help | head`
            _silence_stdout()
        raise
    if not args.command:
        parser.print_help()
        return 2
    import signal

    previous = on_sigterm_raise_terminated()
    try:
        code = _command(args.command)(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except UserError as e:
        print(f"jmedcorpus: error: {e}", file=sys.stderr)
        return 2
    except RunFailed as e:
        print(str(e), file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `jmedcorpus stats --json | head`: the reader left; that is not an error of ours.
        _silence_stdout()
        return 0
    except OSError as e:
        from jmedcorpus.io.outdir import os_error_message

        message = os_error_message(e, getattr(args, "output", None) or ".")
        if message is None:
            raise
        print(f"jmedcorpus: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jmedcorpus: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130
    except Terminated:
        print("jmedcorpus: terminated (SIGTERM); re-run the same command to resume", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's own flush at exit does not raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
