"""``jmedcorpus inspect QA`` on the output of ``jmedcorpus synth``: items, accepted or rejected,
with why, and what the model checks said.

Each item is shown with its question and options (the key marked) or the EHR mapping, its
explanation, the answer check's answers beside the key with the agreement, and the judge's
score, criteria and comment, each against the run's threshold (``min_agreement``,
``min_score`` from the manifest); a rejected item also with its reasons, detail and, with
``--raw``, the generation's and the judge's raw outputs. The same options as for a build select
items: ``--kept`` (accepted), ``--removed [REASON]`` (rejected, for REASON among its reasons),
``--id``, ``--query`` (on the question), ``--source``, ``--sample``/``--limit``, ``--json``.

Like ``inspect`` on a build, this prints generated and passage text to the person who asked for
it; it logs nothing.
"""

from __future__ import annotations

import glob
import json
import os
import re
from itertools import islice

import pyarrow.parquet as pq

from jmedcorpus.errors import UserError
from jmedcorpus.report import inspect_read as rd
from jmedcorpus.report.inspect_pager import Writer

UNSUPPORTED = ("step", "pairs", "quarantined")  # build-only options


def is_synth_output(path: str) -> bool:
    """Whether ``path`` holds a finished ``jmedcorpus synth`` output (its manifest has a
    ``prompt_version`` and no build ``steps``)."""
    try:
        with open(os.path.join(path, rd.MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "prompt_version" in manifest and "steps" not in manifest


def cmd_inspect_synth(args, path: str, removed: str | None, any_reason: str) -> int:
    """Show the items of the synth output at ``path`` selected by ``args`` (see the module)."""
    for name in UNSUPPORTED:
        if getattr(args, name):
            raise UserError(
                f"--{name} is for build outputs; {path} is a synth output (use --kept/--removed/--id)"
            )
    with open(os.path.join(path, rd.MANIFEST), encoding="utf-8") as f:
        out = rd.Output(os.path.abspath(path), json.load(f))
    files = _files(out, args, removed, any_reason)
    wanted = None if removed in (None, any_reason) else removed
    hits = _scan(out, files, args, wanted, query_regex(args.query))
    if args.sample:
        hits, _ = rd.sample(hits, args.sample, 0 if args.seed is None else args.seed, files)
    elif args.limit:
        hits = islice(hits, args.limit)
    writer = Writer(page=not args.no_pager)
    shown = 0
    try:
        for hit, row in rd.RowReader(out).rows(list(hits)):
            rec = item_record(hit, row, out.manifest)
            if args.json:
                writer.write(json.dumps(_json_view(rec, args), ensure_ascii=False, default=str))
            else:
                for line in item_lines(rec, args) + [""]:
                    writer.write(line)
            shown += 1
    finally:
        writer.close()
    if not shown and args.id is not None:
        raise UserError(f"no item with id {args.id!r} in {path} (ids look like <doc>#<n>/<template>)")
    return 0


def query_regex(query: str | None):
    """``--query`` compiled (None without one); an invalid pattern is a one-line error."""
    if query is None:
        return None
    try:
        return re.compile(query)
    except re.error as e:
        raise UserError(f"--query {query!r} is not a valid regular expression: {e}") from None


def _files(out: rd.Output, args, removed, any_reason) -> list[tuple[str, str]]:
    if args.kept and removed is not None:
        raise UserError("--kept does not combine with --removed (accepted items were not rejected)")
    if removed not in (None, any_reason):
        found = (out.manifest.get("counts") or {}).get("reasons_found") or {}
        if removed not in found:
            listing = ", ".join(f"{r} ({n})" for r, n in found.items()) or "none"
            raise UserError(f"no item was rejected for {removed!r}; reasons in this output: {listing}")
    kept = [] if removed is not None else [("accepted", f) for f in out.kept_files()]
    paths = sorted(glob.glob(os.path.join(out.root, "rejected", "*.parquet")))
    rejected = [] if args.kept else [("rejected", os.path.relpath(f, out.root)) for f in paths]
    return kept + rejected


def _scan(out: rd.Output, files, args, reason: str | None, regex):
    """Hits of the selected items in file order, reading the light columns only."""
    for kind, rel in files:
        pf = pq.ParquetFile(out.path(rel))
        names = pf.schema_arrow.names
        text = "question" if "question" in names else "raw"  # rejected rows keep the raw output only
        cols = [c for c in ("id", "source", text, "reasons") if c in names]
        start = 0
        for batch in pf.iter_batches(batch_size=rd.SELECT_BATCH, columns=cols):
            b = batch.to_pydict()
            for i, item_id in enumerate(b["id"]):
                ok = args.id is None or item_id == args.id or item_id.split("/")[0] == args.id
                ok = ok and (args.source is None or b.get("source", [None] * (i + 1))[i] == args.source)
                ok = ok and (reason is None or reason in (b.get("reasons") or [[]] * (i + 1))[i])
                ok = ok and (regex is None or regex.search(b[text][i] or "") is not None)
                if ok:
                    yield rd.Hit(kind, rel, start + i, item_id)
            start += batch.num_rows


def item_record(hit: rd.Hit, row: dict, manifest: dict) -> dict:
    """An item as shown: the row, its status and file, and the run's thresholds."""
    recipe = manifest.get("recipe") or {}
    verdict = json.loads(row["judge"]) if row.get("judge") else {}
    return {
        **row,
        **(_reparsed(row) if hit.kind == "rejected" else {}),
        "status": hit.kind,
        "file": hit.file,
        "judge": verdict,
        "min_agreement": (recipe.get("answer_check") or {}).get("min_agreement"),
        "min_score": (recipe.get("judge") or {}).get("min_score"),
    }


def _reparsed(row: dict) -> dict:
    """The item of a rejected row, parsed again from its raw output (rejected rows do not store
    it): what the model checks were shown. Empty when the raw output does not parse."""
    from jmedcorpus.synth.items import ExamItem, FreeQA
    from jmedcorpus.synth.parsing import parse_exam, parse_free

    raw = row.get("raw") or ""
    if row.get("kind") == "exam":
        item = parse_exam(raw)
    elif row.get("kind") == "free":
        item = parse_free(raw)
    else:
        return {}
    if isinstance(item, ExamItem):
        return {
            "question": item.question,
            "options": item.options,
            "answer": item.answer,
            "explanation": item.explanation,
        }
    if isinstance(item, FreeQA):
        return {"question": item.question, "answer": item.answer}
    return {}


def _excerpt(text: str | None, args) -> str | None:
    if text is None or args.full or len(text) <= args.chars:
        return text
    return text[: args.chars] + "…"


def _json_view(rec: dict, args) -> dict:
    out = {
        k: rec.get(k) for k in ("id", "status", "file", "kind", "source_id", "source", "reason", "reasons")
    }
    out |= {k: rec.get(k) for k in ("detail", "question", "options", "answer", "answer_text", "explanation")}
    out["answer_check"] = {
        "answers": rec.get("answer_check_answers"),
        "agreement": rec.get("answer_check_agreement"),
        "key": rec.get("answer") if rec.get("kind") == "exam" else None,
        "min_agreement": rec["min_agreement"],
    }
    out["judge"] = {
        "score": rec.get("judge_score"),
        "rubric": rec.get("judge_rubric"),
        **rec["judge"],
        "min_score": rec["min_score"],
        "raw": rec.get("judge_raw"),
    }
    out["passage"] = _excerpt(rec.get("passage"), args)
    if rec["status"] == "rejected":
        out["raw"] = _excerpt(rec.get("raw"), args)
    return out


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def item_lines(rec: dict, args) -> list[str]:
    """The item for people (see the module docstring)."""
    status = "accepted" if rec["status"] == "accepted" else f"rejected: {', '.join(rec.get('reasons') or [])}"
    lines = [f"── {rec['id']}  {status}  ({rec['file']})"]
    lines.append(
        f"source {rec.get('source_id')}  model {rec.get('model')}  prompt {rec.get('prompt_version')}"
    )
    if rec.get("detail"):
        lines.append(f"detail: {rec['detail']}")
    if rec.get("question") is not None:
        lines += _item_body(rec)
    answers = rec.get("answer_check_answers")
    if answers is not None:
        agreement, floor = rec.get("answer_check_agreement"), rec["min_agreement"]
        shown = " ".join(a or "?" for a in answers)
        ok = floor is None or agreement >= floor
        lines.append(f"answer check: {shown}  key {rec.get('answer')}  agreement {agreement} {_mark(ok)}")
    if rec.get("judge_rubric"):
        score, floor, verdict = rec.get("judge_score"), rec["min_score"], rec["judge"]
        ok = score is not None and (floor is None or score >= floor)
        where = f"{rec['judge_rubric']}, model {verdict.get('model')}" if verdict else rec["judge_rubric"]
        lines.append(f"judge ({where}): score {score if score is not None else 'unreadable'} {_mark(ok)}")
        criteria = verdict.get("criteria") or {}
        if criteria:
            lines.append("  " + ", ".join(f"{k} {v}" for k, v in criteria.items()))
        if verdict.get("comment"):
            lines.append(f"  comment: {verdict['comment']}")
        if args.raw and rec.get("judge_raw"):
            lines.append(f"  judge raw: {_excerpt(rec['judge_raw'], args)}")
    if rec.get("passage"):
        lines.append(f"passage: {_excerpt(rec['passage'], args)}")
    if rec["status"] == "rejected" and (args.raw or rec.get("question") is None) and rec.get("raw"):
        lines.append(f"raw: {_excerpt(rec['raw'], args)}")
    return lines


def _item_body(rec: dict) -> list[str]:
    if rec.get("kind") == "ehr":
        return [f"local name: {rec['question']} → {rec.get('answer_text')} ({rec.get('answer')})"]
    if rec.get("options"):
        lines = [f"Q: {rec['question']}"]
        for letter, option in zip("abcde", rec["options"]):
            key = "  ◀ key" if letter == rec.get("answer") else ""
            lines.append(f"  {letter}. {option}{key}")
        return lines + [f"解説: {rec.get('explanation')}"]
    return [f"Q: {rec['question']}", f"A: {rec.get('answer')}"]
