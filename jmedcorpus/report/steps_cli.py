"""``jmedcorpus steps``: every registered recipe step, its documentation and defaults, and with a
name its contract (signals and their kinds, thresholds, reasons, ordering rules)."""

from __future__ import annotations

import argparse
import inspect
import textwrap

from jmedcorpus.errors import UserError


def add_steps_parser(subparsers) -> None:
    """Add ``steps`` to the ``jmedcorpus`` subcommands; it runs :func:`cmd_steps`."""
    s = subparsers.add_parser(
        "steps",
        help="list the steps a recipe can use, with their parameters and defaults",
        description="List every registered recipe step with its documentation and parameters.",
        epilog="example:\n  jmedcorpus steps hiragana_ratio",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("name", nargs="?", help="show only this step")


def cmd_steps(args) -> int:
    from jmedcorpus.recipe import step_defaults
    from jmedcorpus.registry import registered_steps

    steps = registered_steps()
    if args.name and args.name not in steps:
        raise UserError(f"unknown step {args.name!r}; run `jmedcorpus steps` for the list")
    for name in sorted(steps) if not args.name else [args.name]:
        cls = steps[name]
        doc = inspect.getdoc(cls) or ""
        print(f"{name}  ({cls.__name__})")
        print(textwrap.indent(doc if args.name else doc.split("\n\n")[0], "    "))
        params = ", ".join(f"{k}={v!r}" for k, v in step_defaults(cls).items())
        print(f"    parameters: {params or 'none'}")
        if args.name:  # the step's contract: what it writes and what each value is compared with
            from jmedcorpus.report.stats import kind_of

            fields = getattr(cls, "signal_fields", {})
            signals = [*fields, *getattr(cls, "other_signals", ())]
            kinds = [kind_of(n) if fields.get(n) != "string" else "label" for n in signals]
            print(f"    signals: {', '.join(f'{n} ({k})' for n, k in zip(signals, kinds)) or 'none'}")
            rows = getattr(cls, "signal_thresholds", ())
            print(f"    thresholds: {'; '.join(f'{sig} {b} = {p}' for sig, b, p, _ in rows) or 'none'}")
            print(f"    reasons: {', '.join(getattr(cls, 'reasons', ())) or 'none (never drops)'}")
            after = getattr(cls, "must_follow", {})
            if after:
                print(f"    comes after: {', '.join(f'{s} ({why})' for s, why in after.items())}")
        print()
    return 0
