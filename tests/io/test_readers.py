"""Readers: every bad input is one quarantine record with file, line and error; the rest is read."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from jmedcorpus import constants as C
from jmedcorpus.io.plan import plan_units
from jmedcorpus.io.readers import Quarantined, ReaderConfig, UnitReader

REPORT = "症例は70歳，男性．血痰を主訴に当院紹介となり，非小細胞肺癌と診断された．"


def read_all(paths, chunk_bytes=1 << 20, config=None):
    docs, bad = [], []
    for unit in plan_units([str(p) for p in paths], chunk_bytes=chunk_bytes):
        for item in UnitReader(unit, config or ReaderConfig()):
            (bad if isinstance(item, Quarantined) else docs).append(item)
    return docs, bad


def write_lines(path, lines: list[bytes]):
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def rec(**kw) -> bytes:
    return json.dumps(kw, ensure_ascii=False).encode()


def test_malformed_lines_are_quarantined_one_each_and_reading_goes_on(tmp_path):
    p = write_lines(
        tmp_path / "notes.jsonl",
        [
            rec(id="a", text=REPORT),
            b'{"id": "b", "text": "\xe7\x97\x87',  # truncated JSON
            b'{"id": "c", "text": "\xe7\x97\x87\xff"}',  # invalid UTF-8 byte
            rec(id="d", body=REPORT),  # missing text
            rec(id="e", text=17),  # text not a string
            b"[1, 2]",  # not an object
            rec(id=["x"], text=REPORT),  # unusable id
            b"",  # blank line: not a record
            rec(id="f", text=REPORT),
        ],
    )
    docs, bad = read_all([p])
    assert [d.id for d in docs] == ["a", "f"]
    assert [(q.error, q.line) for q in bad] == [
        (C.QUARANTINE_INVALID_JSON, 2),
        (C.QUARANTINE_INVALID_UTF8, 3),
        (C.QUARANTINE_MISSING_TEXT, 4),
        (C.QUARANTINE_TEXT_NOT_STRING, 5),
        (C.QUARANTINE_NOT_AN_OBJECT, 6),
        (C.QUARANTINE_INVALID_ID, 7),
    ]
    assert all(q.file == "notes.jsonl" and q.raw for q in bad)
    assert bad[1].raw.startswith(b'{"id": "c"')  # the raw bytes are kept: nothing is lost
    for q in bad:  # privacy: no document text in error details
        assert "症" not in q.detail and "血痰" not in q.detail


def test_empty_file_is_one_quarantine_record(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "empty.txt").write_bytes(b"  \n")
    docs, bad = read_all([tmp_path])
    assert docs == []
    assert sorted((q.file, q.error) for q in bad) == [
        ("empty.jsonl", C.QUARANTINE_EMPTY_FILE),
        ("empty.txt", C.QUARANTINE_EMPTY_FILE),
    ]


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl(tmp_path, suffix):
    raw = b"".join(rec(id=f"n{i}", text=REPORT) + b"\n" for i in range(5)) + b"{oops\n"
    data = gzip.compress(raw) if suffix.endswith("gz") else zstandard.ZstdCompressor().compress(raw)
    (tmp_path / f"x{suffix}").write_bytes(data)
    docs, bad = read_all([tmp_path / f"x{suffix}"])
    assert [d.id for d in docs] == [f"n{i}" for i in range(5)]
    assert [(q.error, q.line) for q in bad] == [(C.QUARANTINE_INVALID_JSON, 6)]


def test_byte_ranges_read_every_line_exactly_once(tmp_path):
    lines = [rec(id=f"r{i}", text=REPORT * (i % 4 + 1)) for i in range(60)]
    p = write_lines(tmp_path / "big.jsonl", lines)
    units = plan_units([str(p)], chunk_bytes=700)
    assert len(units) > 10  # a large single file is many tasks, not one
    docs, _ = read_all([p], chunk_bytes=700)
    whole, _ = read_all([p], chunk_bytes=1 << 30)
    assert [d.id for d in docs] == [d.id for d in whole] == [f"r{i}" for i in range(60)]


def test_ids_kept_as_given_or_derived_from_file_and_offset(tmp_path):
    p = write_lines(tmp_path / "n.jsonl", [rec(id=7, text=REPORT), rec(text=REPORT), rec(text=REPORT)])
    docs, _ = read_all([tmp_path])
    first_len = len(rec(id=7, text=REPORT)) + 1
    assert [d.id for d in docs] == [
        "7",
        f"n.jsonl:{first_len}",
        f"n.jsonl:{first_len + len(rec(text=REPORT)) + 1}",
    ]
    again, _ = read_all([p], chunk_bytes=50)  # stable whatever the split
    assert [d.id for d in again] == [d.id for d in docs]


def test_configurable_fields_and_source(tmp_path):
    p = write_lines(tmp_path / "c.jsonl", [rec(doc_id="x1", body=REPORT, origin="jstage")])
    docs, _ = read_all([p], config=ReaderConfig(text_field="body", id_field="doc_id", source_field="origin"))
    assert (docs[0].id, docs[0].text, docs[0].metadata["source"]) == ("x1", REPORT, "jstage")


def test_parquet_row_groups_are_units(tmp_path):
    table = pa.table({"id": [f"p{i}" for i in range(10)], "text": [REPORT] * 9 + [None]})
    pq.write_table(table, tmp_path / "d.parquet", row_group_size=3)
    units = plan_units([str(tmp_path / "d.parquet")], chunk_bytes=1 << 20)
    assert [u.start for u in units] == [0, 1, 2, 3]
    docs, bad = read_all([tmp_path / "d.parquet"])
    assert [d.id for d in docs] == [f"p{i}" for i in range(9)]
    assert [(q.error, q.offset) for q in bad] == [(C.QUARANTINE_MISSING_TEXT, 9)]


def test_not_parquet_is_quarantined(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    docs, bad = read_all([tmp_path])
    assert docs == [] and [q.error for q in bad] == [C.QUARANTINE_UNREADABLE_FILE]


def test_text_directory_one_document_per_file_and_bad_line_only_lost(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("看護記録：夜間良眠。疼痛の訴えなし。\n", encoding="utf-8")
    (tmp_path / "notes" / "b.txt").write_bytes(
        "バイタル安定。\n".encode() + b"\xff\xfe broken\n" + "食事全量摂取。\n".encode()
    )
    docs, bad = read_all([tmp_path / "notes"])
    assert [d.id for d in docs] == ["a.txt", "b.txt"]
    assert docs[1].text == "バイタル安定。\n\n食事全量摂取。\n"
    assert [(q.file, q.error, q.line) for q in bad] == [("b.txt", C.QUARANTINE_INVALID_UTF8, 2)]


def test_globs_and_order(tmp_path):
    for name in ["b.jsonl", "a.jsonl", "c.txt"]:
        (tmp_path / name).write_bytes(rec(text=REPORT) + b"\n" if name.endswith("jsonl") else REPORT.encode())
    units = plan_units([str(tmp_path / "*.jsonl"), str(tmp_path)], chunk_bytes=1 << 20)
    assert [u.display for u in units] == ["a.jsonl", "b.jsonl", "c.txt"]  # a file named twice is read once
