"""Options several commands share, declared once: the same flags, types and short forms
everywhere; each command says in its own words what they mean for it."""

from __future__ import annotations

PROGRESS_HELP = "do not show progress bars; e.g. --no-progress"


def add_input(p, metavar: str, help: str) -> None:
    """``--input/-i``, one or more values, repeatable."""
    p.add_argument("--input", "-i", nargs="+", action="extend", required=True, metavar=metavar, help=help)


def add_output(p, metavar: str, help: str) -> None:
    """``--output/-o``, required."""
    p.add_argument("--output", "-o", required=True, metavar=metavar, help=help)


def add_cluster(p, workers_help: str, ray_help: str) -> None:
    """``--workers/-w N`` and ``--ray-address ADDR``: how many tasks, and on which Ray."""
    p.add_argument("--workers", "-w", type=int, default=None, metavar="N", help=workers_help)
    p.add_argument("--ray-address", metavar="ADDR", help=ray_help)


def add_reporting(p, json_help: str) -> None:
    """``--no-progress`` and ``--json``."""
    p.add_argument("--no-progress", action="store_true", help=PROGRESS_HELP)
    p.add_argument("--json", action="store_true", help=json_help)


def add_engine(p, what: str) -> None:
    """``--engine auto|ray|processes``: what runs the tasks of ``what`` (e.g. "a local build")."""
    p.add_argument(
        "--engine",
        choices=["auto", "ray", "processes"],
        default="auto",
        help="what runs the tasks: 'ray' (an embedded local Ray, or the cluster of --ray-address), "
        "'processes' (forked processes of this command, this machine only, no Ray start-up: seconds "
        f"faster), 'auto' (default: processes for {what} of under 64 MiB of input, else Ray); "
        "e.g. --engine ray",
    )
