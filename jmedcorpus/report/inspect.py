"""``jmedcorpus inspect OUT``: what is in a built corpus, what was thrown away, and why.

Shows documents of a build output (kept, removed, quarantined) with where they are, their signals
next to the thresholds of the recipe (the one that removed a document marked), a text excerpt
with redaction placeholders highlighted, and for a near-duplicate the kept document beside it
with the differences marked; ``--id`` traces one document through every step. Reading is lazy
(:mod:`jmedcorpus.report.inspect_read`): only the columns and rows needed.

This command prints document text to the person who asked for it (that is its purpose); it
never logs text.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import sys
from typing import TYPE_CHECKING

from jmedcorpus.errors import UserError

if TYPE_CHECKING:  # imported where used: every command builds this parser, few run inspect
    from jmedcorpus.report import inspect_read as rd
    from jmedcorpus.report.inspect_render import View

ANY = "\0any"  # --removed without a reason

EPILOG = """\
examples:
  jmedcorpus inspect out/                                  first documents, kept then removed
  jmedcorpus inspect out/ --removed lang_not_ja            why were these dropped? signals vs thresholds
  jmedcorpus inspect out/ --removed --step minhash_dedup --pairs    near-duplicates beside the kept copy
  jmedcorpus inspect out/ --kept --source medtxt-cr --sample 20 --seed 1    a reproducible sample
  jmedcorpus inspect out/ --query '肝(機能)?障害' --full     documents whose text matches (Python re)
  jmedcorpus inspect out/ --id medtxt-cr-0014              one document through every step
  jmedcorpus inspect out/ --quarantined --raw              unreadable input records
  jmedcorpus inspect out/ --removed dedup_exact_duplicate --json --limit 0 | jq -r .duplicate_of

Filters combine (AND). --step and --pairs imply --removed. Without --kept, --removed or
--quarantined, kept and then removed documents are shown, in file order.
--json prints one JSON object per line (for --id: one object with the trace); fields: id,
status, file, step, reason, detail, duplicate_of, cluster, source, chars, mecab_tokens, signals,
thresholds_fired, redactions, excerpt (or text with --full), pair (kept_id, kept_excerpt or
kept_text, diff: list of {op, kept_span, removed_span, kept, removed}).
Output longer than the terminal goes through $PAGER (default `less -R`) when stdout is a terminal.
"""


def add_inspect_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``inspect`` to the ``jmedcorpus`` subcommands; its handler is :func:`cmd_inspect`."""
    p = subparsers.add_parser(
        "inspect",
        help="show kept, removed and quarantined documents of a build, with why they were dropped",
        description="Show documents of a build output: where each is (kept, removed by which step and "
        "reason, quarantined), its signals next to the recipe's thresholds (the one that fired marked), a "
        "text excerpt, near-duplicates beside the document kept instead; --id traces one document.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("out", nargs="?", metavar="OUT", help="output directory of `jmedcorpus build`")
    what = p.add_argument_group("which documents")
    what.add_argument("--kept", action="store_true", help="only kept documents (OUT/data)")
    what.add_argument(
        "--removed",
        nargs="?",
        const=ANY,
        metavar="REASON",
        help="only removed documents (OUT/removed), or only those removed for REASON (e.g. lang_not_ja)",
    )
    what.add_argument("--step", metavar="STEP", help="only documents removed by this step (e.g. language)")
    what.add_argument("--source", metavar="SRC", help="only documents whose source is exactly SRC")
    what.add_argument("--query", metavar="REGEX", help="only documents whose text matches REGEX (Python re)")
    what.add_argument(
        "--pairs", action="store_true", help="only removed documents with a duplicate_of, shown beside it"
    )
    what.add_argument(
        "--quarantined", action="store_true", help="quarantined input records (file, line, error, detail)"
    )
    what.add_argument("--id", metavar="ID", help="trace the document with this exact id through every step")
    how = p.add_argument_group("how many")
    how.add_argument(
        "--limit",
        type=int,
        default=10,
        metavar="N",
        help="show the first N matches in file order (default 10; 0: all)",
    )
    how.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="show a random sample of N matches instead (reads all matches)",
    )
    how.add_argument(
        "--seed", type=int, metavar="S", help="seed of --sample (default 0): same seed, same sample"
    )
    show = p.add_argument_group("how to show them")
    show.add_argument(
        "--chars", type=int, default=400, metavar="N", help="characters of text excerpt (default 400)"
    )
    show.add_argument("--full", action="store_true", help="whole texts (and whole diffs) instead of excerpts")
    show.add_argument(
        "--raw", action="store_true", help="with --quarantined: an escaped preview of the raw bytes"
    )
    show.add_argument("--json", action="store_true", help="JSON Lines, one object per document (see below)")
    show.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour highlights (default auto: when stdout is a terminal and NO_COLOR is unset)",
    )
    show.add_argument(
        "--no-color", dest="color", action="store_const", const="never", help="same as --color never"
    )
    show.add_argument(
        "--width",
        type=int,
        metavar="COLS",
        help="line width; near-duplicates are shown in two columns from 100 "
        "(default: the terminal's, else 80)",
    )
    show.add_argument("--no-pager", action="store_true", help="never pipe the output through $PAGER")
    p.set_defaults(handler=cmd_inspect)
    return p


def cmd_inspect(args) -> int:
    from jmedcorpus.io import remote
    from jmedcorpus.report import inspect_read as rd
    from jmedcorpus.report.inspect_pager import Writer
    from jmedcorpus.report.inspect_run import list_documents, trace_id
    from jmedcorpus.report.inspect_synth import cmd_inspect_synth, is_synth_output

    out_path, removed = args.out, args.removed
    if out_path is None and removed not in (None, ANY) and os.path.isdir(removed):
        out_path, removed = removed, ANY  # `inspect --removed OUT`
    if out_path is None:
        raise UserError("give the build output directory: jmedcorpus inspect OUT [options]")
    if remote.is_remote(out_path):  # a finished output in object storage: a local copy
        out_path = remote.fetch_output(out_path)
    if is_synth_output(out_path):  # an output of `jmedcorpus synth`: its items and model checks
        _check_numbers(args)
        return cmd_inspect_synth(args, out_path, removed, ANY)
    out = rd.open_output(out_path)
    _check_numbers(args)
    view = _view(args, out)
    writer = Writer(page=not args.no_pager)
    try:
        if args.id is not None:
            _check_alone(args, removed, "--id")
            return trace_id(out, args, view, writer)
        if args.quarantined:
            _check_alone(args, removed, "--quarantined", allowed=("query", "sample"))
            files = [("quarantined", f) for f in out.quarantine_files()]
            sel = rd.Selection(regex=view.regex, text_column="raw")
        else:
            if args.raw:
                raise UserError("--raw shows quarantined records' bytes: use it with --quarantined")
            files, sel = _documents(out, args, removed, view)
        return list_documents(out, args, view, writer, files, sel)
    finally:
        writer.close()


def _check_numbers(args) -> None:
    if args.limit < 0:
        raise UserError(f"--limit must be >= 0 (0: all), got {args.limit}")
    if args.sample is not None and args.sample < 1:
        raise UserError(f"--sample must be >= 1, got {args.sample}")
    if args.seed is not None and args.sample is None:
        raise UserError("--seed is the seed of --sample; add --sample N")
    if args.chars < 1:
        raise UserError(f"--chars must be >= 1, got {args.chars}")
    if args.width is not None and args.width < 40:
        raise UserError(f"--width must be >= 40 columns, got {args.width}")


def _check_alone(args, removed, option: str, allowed: tuple[str, ...] = ()) -> None:
    given = {"kept": args.kept, "removed": removed is not None, "step": args.step, "source": args.source}
    given |= {
        "query": args.query,
        "pairs": args.pairs,
        "quarantined": args.quarantined and option != "--quarantined",
    }
    given |= {"sample": args.sample is not None}
    clash = [f"--{k}" for k, v in given.items() if v and k not in allowed]
    if clash:
        raise UserError(f"{option} does not combine with {', '.join(clash)}")


def _view(args, out: rd.Output) -> View:
    from jmedcorpus.report.inspect_render import View
    from jmedcorpus.report.inspect_synth import query_regex
    from jmedcorpus.report.thresholds import thresholds_by_step

    regex = query_regex(args.query)
    tty = sys.stdout.isatty()
    color = args.color == "always" or (
        args.color == "auto" and tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    )
    width = args.width or (shutil.get_terminal_size((80, 24)).columns if tty else 80)
    return View(
        color=color and not args.json,
        chars=args.chars,
        full=args.full,
        width=width,
        regex=regex,
        raw=args.raw,
        steps=out.steps,
        by_step=thresholds_by_step(out.manifest.get("recipe") or {}),
    )


def _unknown(kind: str, value: str, known: list[str], listing: str) -> UserError:
    close = difflib.get_close_matches(value, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return UserError(f"unknown {kind} {value!r}{hint}; {listing}")


def _documents(out: rd.Output, args, removed, view: View):
    from jmedcorpus.report import inspect_read as rd

    if args.kept and (removed is not None or args.step or args.pairs):
        raise UserError(
            "--kept does not combine with --removed, --step or --pairs (kept documents were not removed)"
        )
    reasons = out.reasons()
    sel = rd.Selection(regex=view.regex)
    steps = None
    if removed not in (None, ANY):
        if removed not in reasons:
            quarantine = (out.manifest.get("counts") or {}).get("quarantined_by_error") or {}
            if removed in quarantine:
                raise UserError(f"{removed!r} is a quarantine error, not a removal reason: use --quarantined")
            listing = ", ".join(f"{r} ({sum(s.values())})" for r, s in reasons.items()) or "none"
            raise _unknown("reason", removed, list(reasons), f"reasons in this build: {listing}")
        sel.equals["reason"] = removed
        steps = list(reasons[removed])
    if args.step:
        if args.step not in out.step_names:
            raise _unknown(
                "step", args.step, out.step_names, f"steps of this build: {', '.join(out.step_names)}"
            )
        if steps is not None and args.step not in steps:
            raise UserError(
                f"step {args.step!r} removed no document for reason {removed!r} "
                f"(that was: {', '.join(steps)})"
            )
        steps = [args.step]
        sel.equals["step"] = args.step
    if args.source is not None:
        sel.equals["source"] = args.source
    if args.pairs:
        sel.not_null = ("duplicate_of",)
    files = [] if removed is not None or args.step or args.pairs else [("kept", f) for f in out.kept_files()]
    if not args.kept:
        files += [("removed", f) for f in out.removed_files(steps)]
    return files, sel
