"""Running ``jmedcorpus inspect``: list the selected documents (or trace one id) and print
them, reading texts chunk by chunk in file order and stopping once enough are shown."""

from __future__ import annotations

import json
import sys
from itertools import islice

from jmedcorpus.errors import UserError
from jmedcorpus.report import diff
from jmedcorpus.report import inspect_read as rd
from jmedcorpus.report.inspect_pager import Writer
from jmedcorpus.report.inspect_render import (
    View,
    document_json,
    document_lines,
    make_record,
    quarantine_json,
    quarantine_lines,
)
from jmedcorpus.report.inspect_trace import trace_json, trace_lines

CHUNK = 50  # documents whose texts are read at a time


def pairs_for(out: rd.Output, recs: list[dict]) -> dict[str, dict]:
    """For removed documents with a duplicate_of: the document kept instead (looked up by id in the
    kept shards, else among removed documents) and the character diff."""
    wanted = {r["duplicate_of"] for r in recs if r.get("duplicate_of")}
    if not wanted:
        return {}
    files = [("kept", f) for f in out.kept_files()] + [("removed", f) for f in out.removed_files()]
    found: dict[str, dict] = {}
    for hit, row in rd.RowReader(out).rows(rd.find_ids(out, files, wanted)):
        found.setdefault(hit.id, make_record(hit.kind, hit.file, row))
    pairs = {}
    for r in recs:
        kept = found.get(r.get("duplicate_of"))
        if kept is not None and r["text"] is not None and kept["text"] is not None:
            pairs[r["id"]] = {"kept": kept, "ops": diff.diff_ops(kept["text"], r["text"])}
    return pairs


def emit(writer: Writer, view: View, args, rec: dict, pair: dict | None) -> None:
    if rec["status"] == "quarantined":
        obj = quarantine_json(rec, view) if args.json else quarantine_lines(rec, view)
    else:
        obj = document_json(rec, view, pair) if args.json else document_lines(rec, view, pair)
    if args.json:
        writer.write(json.dumps(obj, ensure_ascii=False, default=str))
    else:
        for line in obj + [""]:
            writer.write(line)


def list_documents(out: rd.Output, args, view: View, writer: Writer, files, sel) -> int:
    hits = rd.scan(out, files, sel)
    matched = None
    if args.sample:
        chosen, matched = rd.sample(hits, args.sample, 0 if args.seed is None else args.seed, files)
        hits = iter(chosen)
    elif args.limit:
        hits = islice(hits, args.limit)
    shown = 0
    id_field = (out.manifest.get("recipe") or {}).get("input", {}).get("id_field", "id")
    reader = rd.RowReader(out)
    while chunk := list(islice(hits, CHUNK)):
        recs = [make_record(h.kind, h.file, row, id_field) for h, row in reader.rows(chunk)]
        pairs = pairs_for(out, recs) if any(r.get("duplicate_of") for r in recs) else {}
        for rec in recs:
            emit(writer, view, args, rec, pairs.get(rec["id"]))
        shown += len(recs)
        if writer.closed_early:  # the reader is gone (| head, q in the pager): stop reading
            return 0
    if not shown:
        print("no matching documents", file=sys.stderr)
    elif not args.json:
        if matched is not None:
            writer.write(f"-- {shown} of {matched} matching, sampled with seed {args.seed or 0} --")
        elif args.limit and shown == args.limit:
            writer.write(
                f"-- first {shown} matches; --limit N for more (0: all), --sample N for a random sample --"
            )
        else:
            writer.write(f"-- {shown} match(es) --")
    return 0


def trace_id(out: rd.Output, args, view: View, writer: Writer) -> int:
    id_field = (out.manifest.get("recipe") or {}).get("input", {}).get("id_field", "id")
    files = [("kept", f) for f in out.kept_files()] + [("removed", f) for f in out.removed_files()]
    hits = rd.find_ids(out, files, {args.id}) + rd.quarantine_ids(out, id_field, args.id)
    if not hits:
        raise UserError(f"id {args.id!r} is not in {out.root}: not kept, removed nor quarantined")
    recs = [make_record(h.kind, h.file, row, id_field) for h, row in rd.RowReader(out).rows(hits)]
    pairs = pairs_for(out, recs)
    if args.json:
        objs = [trace_json(r, view, pairs.get(r["id"])) for r in recs]
        first = objs[0] | ({"other_occurrences": objs[1:]} if len(objs) > 1 else {})
        writer.write(json.dumps(first, ensure_ascii=False, default=str))
        return 0
    if len(recs) > 1:
        writer.write(f"id {args.id!r} occurs {len(recs)} times in this output (ids are kept as given)")
    for rec in recs:
        for line in trace_lines(rec, view, pairs.get(rec["id"])) + [""]:
            writer.write(line)
    return 0
