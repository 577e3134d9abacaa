"""``jmedcorpus stats OUT``: the terminal summary, ``--json`` and ``--html``."""

from __future__ import annotations

import argparse
import json
import sys

EPILOG = """\
examples:
  jmedcorpus stats out/                         funnel, drop reasons, token totals, sources, top terms
  jmedcorpus stats out/ --html report.html      one self-contained page with plots (works offline)
  jmedcorpus stats out/ --json | jq .counts     the numbers for scripts (OUT/stats/stats.json)
  jmedcorpus stats old-out/ --recompute --save  recompute from data/ and removed/ for an older build;
                                                --save writes OUT/stats/stats.json and OUT/README.md

The build writes OUT/stats/stats.json (collected while it writes the output) and OUT/README.md (a
dataset card in the Hugging Face format); this command reads the former, so it takes well under a
second on any size of output. No document text is shown.
"""


def add_stats_parser(sub) -> None:
    p = sub.add_parser(
        "stats",
        help="summarize a built corpus: funnel, drop reasons, distributions, sources, tokens",
        description="Statistics of a corpus built by `jmedcorpus build`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("output", metavar="OUT", help="the output directory of `jmedcorpus build`")
    p.add_argument(
        "--html", metavar="FILE", help="also write a self-contained HTML report with plots to FILE"
    )
    p.add_argument("--json", action="store_true", help="print the statistics as JSON instead of the summary")
    p.add_argument(
        "--recompute",
        action="store_true",
        help="recompute from OUT/data and OUT/removed instead of reading OUT/stats/stats.json",
    )
    p.add_argument(
        "--save", action="store_true", help="with --recompute: write OUT/stats/stats.json and OUT/README.md"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar while recomputing")


def cmd_stats(args) -> int:
    from jmedcorpus.io import remote
    from jmedcorpus.report.stats_files import load_stats, read_manifest, recompute, write_stats

    progress = not args.no_progress and sys.stderr.isatty()
    url = None
    if remote.is_remote(args.output):  # a finished output in object storage: a local copy
        url, args.output = args.output, remote.fetch_output(args.output, progress)
    from jmedcorpus.report.inspect_synth import is_synth_output

    if is_synth_output(args.output):  # an output of `jmedcorpus synth`: its own statistics
        from jmedcorpus.report.synth_stats import cmd_stats_synth

        return cmd_stats_synth(args)
    stats = (
        recompute(args.output, progress=progress)
        if args.recompute
        else load_stats(args.output, progress=progress)
    )
    if args.save:
        from jmedcorpus.report.card import write_dataset_card

        write_stats(stats, args.output)
        write_dataset_card(stats, read_manifest(args.output), args.output)
        if url:
            remote.upload_output(args.output, url, progress)
    if args.html:
        from jmedcorpus.report.html import write_html_report

        write_html_report(stats, args.html)
    print(json.dumps(stats, ensure_ascii=False, indent=2) if args.json else summary(stats))
    if args.html and not args.json:
        print(f"report: {args.html}")
    return 0


def summary(stats: dict) -> str:
    """The terminal summary: totals, the step funnel, top drop reasons, sources, types, terms."""
    c = stats["counts"]
    lines = [
        f"records in {c['records_in']:,}  kept {c['kept']:,}  removed {c['removed']:,}  quarantined {c['quarantined']:,}",
        (
            f"kept: {c['kept_chars']:,} characters, {c['kept_mecab_tokens']:,} MeCab tokens   "
            f"removed: {c['removed_chars']:,} characters, {c['removed_mecab_tokens']:,} MeCab tokens"
        ),
        "",
        f"{'step':<24}{'in':>10}{'out':>10}{'removed':>9}{'rm chars':>12}  top reasons",
    ]
    for s in stats["funnel"]:
        reasons = ", ".join(f"{k} {v:,}" for k, v in list(s["reasons"].items())[:2])
        lines.append(
            f"{s['step']:<24}{s['in']:>10,}{s['out']:>10,}{s['removed']:>9,}{s['removed_chars']:>12,}  {reasons}"
        )
    if stats["reasons"]:
        lines += [
            "",
            "top drop reasons: " + ", ".join(f"{k} {v:,}" for k, v in list(stats["reasons"].items())[:6]),
        ]
    for title, key in (("sources (kept)", "sources"), ("document types (kept)", "document_types")):
        items = list(stats[key].get("kept", {}).items())[:8]
        if items:
            lines.append(f"{title}: " + ", ".join(f"{k} {v:,}" for k, v in items))
    red = stats.get("redactions") or {}
    if red:
        lines.append(
            "personal information replaced (kept documents): "
            + ", ".join(f"<{k.upper()}> {v:,}" for k, v in red.items())
        )
    nd = stats["near_duplicate_clusters"]
    if nd["clusters"]:
        sizes = ", ".join(f"size {k}: {v:,}" for k, v in list(nd["sizes"].items())[:5])
        lines.append(
            f"near-duplicate clusters: {nd['clusters']:,} ({sizes}); {nd['removed']:,} documents removed"
        )
    for key in ("chars", "mecab_tokens", "hiragana_ratio", "kanji_ratio"):
        s = stats["signals"].get(key)
        if s and s["quantiles_kept"]:
            q = s["quantiles_kept"]
            lines.append(f"{key}: p10 ≤ {q['p10']:.3g}, p50 ≤ {q['p50']:.3g}, p90 ≤ {q['p90']:.3g} (kept)")
    terms = stats["terms"]
    if terms["medical_terms"]:
        top = "、".join(t for t, _ in terms["medical_terms"][:15])
        lines.append(f"medical terms ({terms['sample_documents']:,} sampled documents): {top}")
    return "\n".join(lines)
