"""Bad input never stops a run: each case is read from a real file, the bad part is quarantined
with a text-free detail, and the good records around it are still read."""

import gzip
import json
import os

import pytest
import zstandard

from jmedcorpus import constants as C
from jmedcorpus.io.plan import SkippedFile, plan_units
from jmedcorpus.io.readers import Quarantined, ReaderConfig, UnitReader
from jmedcorpus.recipe import RecipeError, recipe_from_dict

REPORT = "症例は70歳，男性．血痰を主訴に当院紹介となり，非小細胞肺癌と診断された．"
NOTE = "看護記録：夜間良眠。疼痛の訴えなし。バイタル安定。食事全量摂取。\n"


def rec(**kw) -> bytes:
    return json.dumps(kw, ensure_ascii=False).encode()


def good(i: int) -> bytes:
    return rec(id=f"g{i}", text=REPORT)


def read(paths, chunk_bytes=1 << 20, **config):
    docs, bad, readers = [], [], []
    for unit in plan_units([str(p) for p in paths], chunk_bytes=chunk_bytes):
        reader = UnitReader(unit, ReaderConfig(**config))
        readers.append(reader)
        for item in reader:
            (bad if isinstance(item, Quarantined) else docs).append(item)
    return docs, bad, readers


def assert_text_free(bad):
    for q in bad:  # privacy: no document text in details
        assert not any(ch in q.detail for ch in "症血痰看護記録"), q.detail


# --- 1, 4, 6: JSONL lines -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, lines, ids, errors",
    [
        (
            "deep_nesting",
            [
                good(0),
                b"[" * 10000 + b"]" * 10000,
                rec(id="n", text=REPORT, x=json.loads("[" * 50 + "]" * 50)),
                good(1),
            ],
            ["g0", "n", "g1"],
            [(C.QUARANTINE_INVALID_JSON, 2, "nested too deeply")],
        ),
        (
            "deep_nesting_in_a_field",
            [good(0), b'{"id": "d", "text": "x", "m": ' + b"[" * 10000 + b"]" * 10000 + b"}", good(1)],
            ["g0", "g1"],
            [(C.QUARANTINE_INVALID_JSON, 2, "nested too deeply")],
        ),
        (
            "lone_surrogate_id",
            [good(0), b'{"id": "x\\udc00", "text": "t"}', good(1)],
            ["g0", "g1"],
            [(C.QUARANTINE_INVALID_ID, 2, "id holds a lone surrogate")],
        ),
        (
            "lone_surrogate_source",
            [good(0), b'{"id": "s", "text": "t", "source": "\\ud800web"}', good(1)],
            ["g0", "s", "g1"],
            [],
        ),
        ("utf8_bom", [b"\xef\xbb\xbf" + good(0), good(1)], ["g0", "g1"], []),
        ("bom_only_first_line", [b"\xef\xbb\xbf", good(0)], ["g0"], []),
    ],
)
def test_bad_jsonl_lines(tmp_path, name, lines, ids, errors):
    p = tmp_path / f"{name}.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    docs, bad, _ = read([p])
    assert [d.id for d in docs] == ids
    assert [(q.error, q.line, q.detail) for q in bad] == errors
    for d in docs:  # everything left is storable (the Parquet writer encodes as UTF-8)
        d.id.encode("utf-8")
        d.metadata["source"].encode("utf-8")
    if name == "lone_surrogate_source":
        assert docs[1].metadata["source"] == p.name  # falls back to the display path
    assert_text_free(bad)


# --- 2: compressed streams -------------------------------------------------------------------------
RECORDS = b"".join(good(i) + b"\n" for i in range(200))


def zst_frames(data: bytes, frames: int) -> bytes:
    step = len(data) // frames + 1
    cctx = zstandard.ZstdCompressor(write_checksum=True)
    return b"".join(cctx.compress(data[i : i + step]) for i in range(0, len(data), step))


def cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def corrupt(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 64]) + data[middle + 64 :]


@pytest.mark.parametrize(
    "suffix, make, all_read, error",
    [
        (".jsonl.zst", lambda d: zst_frames(d, 1), True, None),
        (".jsonl.zst", lambda d: zst_frames(d, 5), True, None),  # several frames: all read
        (".jsonl.zst", lambda d: cut(zst_frames(d, 1), 0.5), False, "truncated zstd stream"),
        (".jsonl.zst", lambda d: cut(zst_frames(d, 1), 0.9), False, "truncated zstd stream"),
        (".jsonl.zst", lambda d: cut(zst_frames(d, 5), 0.5), False, "truncated zstd stream"),
        (".jsonl.zst", lambda d: zst_frames(d, 1)[:-2], True, "truncated zstd stream"),  # checksum cut
        (".jsonl.zst", lambda d: corrupt(zst_frames(d, 5)), False, "corrupt zstd stream"),
        (".jsonl.zst", lambda d: b"this is not zstd at all\n", False, "corrupt zstd stream"),
        (".jsonl.gz", lambda d: gzip.compress(d), True, None),
        (".jsonl.gz", lambda d: cut(gzip.compress(d), 0.5), False, "truncated gzip stream"),
        (".jsonl.gz", lambda d: cut(gzip.compress(d), 0.9), False, "truncated gzip stream"),
        (".jsonl.gz", lambda d: corrupt(gzip.compress(d)), False, "corrupt gzip stream"),
        (".jsonl.gz", lambda d: b"this is not gzip at all\n", False, "corrupt gzip stream"),
    ],
)
def test_damaged_compressed_streams(tmp_path, suffix, make, all_read, error):
    p = tmp_path / f"x{suffix}"
    p.write_bytes(make(RECORDS))
    docs, bad, _ = read([p])
    ids = [d.id for d in docs]
    assert ids == [f"g{i}" for i in range(len(ids))]  # every record read is complete and in order
    assert len(ids) == 200 if all_read else len(ids) < 200
    if error is None:
        assert bad == []
    else:
        assert [q.error for q in bad] == [C.QUARANTINE_UNREADABLE_FILE]
        assert bad[0].detail.startswith(error)
        assert bad[0].line == len(ids) + 1  # where reading stopped


def test_truncated_zstd_keeps_lines_before_the_cut(tmp_path):
    # several frames: the complete frames before the cut are all read
    data = zst_frames(RECORDS, 10)
    p = tmp_path / "x.jsonl.zst"
    p.write_bytes(cut(data, 0.75))
    docs, bad, _ = read([p])
    assert len(docs) >= 140 and [q.error for q in bad] == [C.QUARANTINE_UNREADABLE_FILE]


def test_empty_zstd_file_is_empty_not_truncated(tmp_path):
    (tmp_path / "e.jsonl.zst").write_bytes(b"")
    (tmp_path / "f.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(b""))
    _, bad, _ = read([tmp_path])
    assert [(q.file, q.error) for q in bad] == [
        ("e.jsonl.zst", C.QUARANTINE_EMPTY_FILE),
        ("f.jsonl.zst", C.QUARANTINE_EMPTY_FILE),
    ]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"])
def test_bom_at_byte_zero_of_plain_and_compressed(tmp_path, suffix):
    raw = b"\xef\xbb\xbf" + good(0) + b"\n" + good(1) + b"\n"
    data = {".jsonl": raw, ".jsonl.gz": gzip.compress(raw), ".jsonl.zst": zst_frames(raw, 1)}[suffix]
    (tmp_path / f"b{suffix}").write_bytes(data)
    docs, bad, _ = read([tmp_path / f"b{suffix}"])
    assert [d.id for d in docs] == ["g0", "g1"] and bad == []


# --- 3: JATS -------------------------------------------------------------------------------------
def jats_article(body: str, encoding: str = "UTF-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<article xml:lang="ja"><front><article-meta><title-group>'
        "<article-title>肺癌の1例</article-title></title-group></article-meta></front>"
        f"<body><sec><title>症例</title><p>{body}</p></sec></body></article>\n"
    )


@pytest.mark.parametrize(
    "name, data, detail",
    [
        ("deep.xml", jats_article("<italic>" * 1500 + "x" + "</italic>" * 1500).encode(), "nested deeper"),
        ("deeper.xml", jats_article("<sec>" * 20000 + "</sec>" * 20000).encode(), "nested deeper"),
        ("bad_sjis.xml", jats_article("x", "Shift_JIS").encode() + b"\x81", "not valid shift_jis"),
        ("unknown.xml", jats_article("x", "x-no-such-codec").encode(), "unknown encoding"),
    ],
)
def test_bad_jats_file_is_one_record_and_the_group_goes_on(tmp_path, name, data, detail):
    (tmp_path / "a.xml").write_text(jats_article(REPORT), encoding="utf-8")
    (tmp_path / name).write_bytes(data)
    (tmp_path / "z.xml").write_text(jats_article(REPORT), encoding="utf-8")
    units = plan_units([str(tmp_path)], chunk_bytes=1 << 30)
    assert len(units) == 1  # one grouped unit
    docs, bad, _ = read([tmp_path])
    assert [d.id for d in docs] == ["a.xml", "z.xml"]
    assert [(q.file, q.error) for q in bad] == [(name, C.QUARANTINE_INVALID_XML)]
    assert detail in bad[0].detail
    assert_text_free(bad)


@pytest.mark.parametrize(
    "encoding, codec", [("Shift_JIS", "shift_jis"), ("EUC-JP", "euc_jp"), ("CP932", "cp932")]
)
def test_jats_in_legacy_japanese_encodings_reads_like_utf8(tmp_path, data_dir, encoding, codec):
    utf8 = (data_dir / "jats" / "jstage_case_report_ja.xml").read_bytes()
    legacy = utf8.decode().replace('encoding="UTF-8"', f'encoding="{encoding}"', 1)
    (tmp_path / "a.xml").write_bytes(utf8)
    # characters the encoding lacks (©, ～) as character references: the same text once parsed
    (tmp_path / "b.xml").write_bytes(legacy.encode(codec, "xmlcharrefreplace"))
    docs, bad, _ = read([tmp_path])
    assert bad == []
    (a, b) = docs
    assert b.text == a.text and b.metadata["title"] == a.metadata["title"] and "症例" in b.text


def test_jats_declared_shift_jis_with_windows_characters_is_read_as_cp932(tmp_path):
    body = jats_article("①～" + REPORT)
    (tmp_path / "a.xml").write_text(body, encoding="utf-8")
    (tmp_path / "b.xml").write_bytes(body.replace("UTF-8", "Shift_JIS").encode("cp932"))
    docs, bad, _ = read([tmp_path])
    assert bad == [] and docs[0].text == docs[1].text and "①～" in docs[1].text


def test_any_exception_costs_one_file_only(tmp_path, monkeypatch):
    from jmedcorpus.io import readers

    for name in ("a.xml", "b.xml", "c.xml"):
        (tmp_path / name).write_text(jats_article(REPORT), encoding="utf-8")
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(NOTE, encoding="utf-8")
    real_jats, real_text = readers.parse_jats, readers.decode_text

    def flaky_jats(data, options):
        if flaky_jats.calls == 1:
            flaky_jats.calls += 1
            raise MemoryError()
        flaky_jats.calls += 1
        return real_jats(data, options)

    def flaky_text(data, encoding, display):
        if display == "b.txt":
            raise KeyError("boom")
        return real_text(data, encoding, display)

    flaky_jats.calls = 0
    monkeypatch.setattr(readers, "parse_jats", flaky_jats)
    monkeypatch.setattr(readers, "decode_text", flaky_text)
    docs, bad, _ = read([tmp_path])
    assert sorted(d.metadata["source"] for d in docs) == ["a.txt", "a.xml", "c.txt", "c.xml"]
    assert sorted((q.file, q.error, q.detail) for q in bad) == [
        ("b.txt", C.QUARANTINE_UNREADABLE_FILE, "KeyError"),
        ("b.xml", C.QUARANTINE_INVALID_XML, "MemoryError"),
    ]


# --- 5: planning ---------------------------------------------------------------------------------
def test_plan_skips_and_reports_what_it_does_not_read(tmp_path):
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / ".cache").mkdir()
    (root / ".cache" / "x.jsonl").write_bytes(good(9) + b"\n")
    (root / "a.jsonl").write_bytes(good(0) + b"\n")
    (root / "sub" / "b.txt").write_text(NOTE, encoding="utf-8")
    (root / ".hidden.jsonl").write_bytes(good(8) + b"\n")
    for name in ("data.csv", "README.md", "t.tsv", "r.docx", "x.csv.gz", "Makefile"):
        (root / name).write_text("a")
    os.symlink(root / "missing.jsonl", root / "dangling.jsonl")
    os.symlink(root / "loop.jsonl", root / "loop.jsonl")
    os.symlink(tmp_path, root / "sub" / "up")  # a directory symlink: not followed
    os.mkfifo(root / "pipe.jsonl")
    skipped: list = []
    units = plan_units([str(root)], chunk_bytes=1 << 20, skipped=skipped)
    assert [u.display for u in units] == ["a.jsonl", os.path.join("sub", "b.txt")]
    assert all(isinstance(s, SkippedFile) for s in skipped)
    assert sorted((s.path, s.reason) for s in skipped) == sorted(
        [
            (".cache" + os.sep, "hidden file"),
            (".hidden.jsonl", "hidden file"),
            ("data.csv", "unsupported file type (.csv)"),
            ("README.md", "unsupported file type (.md)"),
            ("t.tsv", "unsupported file type (.tsv)"),
            ("r.docx", "unsupported file type (.docx)"),
            ("x.csv.gz", "unsupported file type (.csv.gz)"),
            ("Makefile", "unsupported file type (no extension)"),
            ("dangling.jsonl", "broken symlink"),
            ("loop.jsonl", "broken symlink"),
            ("pipe.jsonl", "not a regular file"),
            (os.path.join("sub", "up"), "symlink to a directory (not followed)"),
        ]
    )
    assert plan_units([str(root)], chunk_bytes=1 << 20) == units  # the list is optional
    docs, bad, _ = read([root])
    assert [d.id for d in docs] == ["g0", os.path.join("sub", "b.txt")] and bad == []


def test_plan_reports_globs_and_unreadable_files(tmp_path, monkeypatch):
    (tmp_path / "a.jsonl").write_bytes(good(0) + b"\n")
    (tmp_path / "b.jsonl").write_bytes(good(1) + b"\n")
    (tmp_path / "c.csv").write_text("a")
    os.symlink(tmp_path / "gone.jsonl", tmp_path / "d.jsonl")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m: not str(p).endswith("b.jsonl") and real_access(p, m))
    skipped: list = []
    units = plan_units([str(tmp_path / "*")], chunk_bytes=1 << 20, skipped=skipped)
    assert [u.display for u in units] == ["a.jsonl"]
    assert sorted((s.path, s.reason) for s in skipped) == [
        ("b.jsonl", "unreadable (permission denied)"),
        ("c.csv", "unsupported file type (.csv)"),
        ("d.jsonl", "broken symlink"),
    ]


def test_directory_of_only_broken_entries_is_one_line_error(tmp_path):
    from jmedcorpus.errors import UserError

    os.symlink(tmp_path / "gone.jsonl", tmp_path / "d.jsonl")
    with pytest.raises(UserError, match=r"holds no .*\(1 skipped, e.g. d.jsonl: broken symlink") as e:
        plan_units([str(tmp_path)], chunk_bytes=100, skipped=[])
    assert "\n" not in str(e.value)


def test_non_utf8_file_name_gives_a_storable_display(tmp_path):
    name = os.fsdecode(b"n\xff.jsonl")
    (tmp_path / name).write_bytes(rec(text=REPORT) + b"\n")
    docs, bad, _ = read([tmp_path])
    assert bad == [] and len(docs) == 1
    docs[0].id.encode("utf-8")
    docs[0].metadata["source"].encode("utf-8")


# --- 7: encodings --------------------------------------------------------------------------------
JA_TEXT = "症例は70歳男性。血痰を主訴に来院した。胸部CTで右上葉に腫瘤を認めた。\n経過観察とした。\n"


@pytest.mark.parametrize(
    "name, data, encoding",
    [
        ("utf8.txt", JA_TEXT.encode("utf-8"), "auto"),
        ("utf8bom.txt", JA_TEXT.encode("utf-8-sig"), "auto"),
        ("sjis.txt", JA_TEXT.encode("shift_jis"), "auto"),
        ("cp932.txt", (JA_TEXT + "①～\n").encode("cp932"), "auto"),
        ("eucjp.txt", JA_TEXT.encode("euc_jp"), "auto"),
        ("utf16.txt", JA_TEXT.encode("utf-16"), "auto"),
        ("utf16be.txt", b"\xfe\xff" + JA_TEXT.encode("utf-16-be"), "auto"),
        ("utf16nobom.txt", ("Patient notes\n" * 3 + JA_TEXT).encode("utf-16-le"), "auto"),
        ("utf32.txt", JA_TEXT.encode("utf-32"), "auto"),
        ("explicit_cp932.txt", JA_TEXT.encode("cp932"), "cp932"),
        ("explicit_eucjp.txt", JA_TEXT.encode("euc_jp"), "euc-jp"),
        ("explicit_utf16.txt", JA_TEXT.encode("utf-16"), "utf-16"),
        ("explicit_utf8.txt", JA_TEXT.encode("utf-8-sig"), "utf-8"),
    ],
)
def test_text_file_encodings_decode_to_the_same_text(tmp_path, name, data, encoding):
    (tmp_path / "a.txt").write_text(NOTE, encoding="utf-8" if encoding == "auto" else encoding)
    (tmp_path / name).write_bytes(data)
    docs, bad, _ = read([tmp_path], encoding=encoding)
    assert bad == []
    texts = {d.id: d.text for d in docs}
    assert texts[name].startswith(JA_TEXT) or texts[name].endswith(JA_TEXT)
    assert "\ufeff" not in texts[name]
    assert texts["a.txt"] == NOTE


def test_blank_utf16_text_file_is_empty(tmp_path):
    (tmp_path / "a.txt").write_bytes(" \n\n".encode("utf-16"))
    _, bad, _ = read([tmp_path])
    assert [(q.file, q.error) for q in bad] == [("a.txt", C.QUARANTINE_EMPTY_FILE)]


@pytest.mark.parametrize(
    "name, data, encoding, detail",
    [
        ("latin.txt", b"\xfd\xfe\xfd garbage \x80\x80\n" * 3, "auto", "not UTF-8, CP932 or EUC-JP"),
        ("wrong.txt", JA_TEXT.encode("utf-8"), "euc_jp", "not valid euc_jp at byte"),
        ("bad16.txt", b"\xff\xfe" + "症".encode("utf-16-le") + b"\x00\xd8", "auto", "not valid utf-16-le"),
    ],
)
def test_undecodable_text_file_is_one_record(tmp_path, name, data, encoding, detail):
    (tmp_path / "a.txt").write_text(NOTE, encoding="utf-8" if encoding == "auto" else encoding)
    (tmp_path / name).write_bytes(data)
    docs, bad, _ = read([tmp_path], encoding=encoding)
    assert [d.id for d in docs] == ["a.txt"]  # no ASCII fragment survives as a document
    assert [(q.file, q.error) for q in bad] == [(name, C.QUARANTINE_UNDECODABLE)]
    assert detail in bad[0].detail and "set input.encoding" in bad[0].detail
    assert bad[0].raw == data  # nothing lost


def test_undecodable_detail_names_the_likely_encoding(tmp_path):
    sjis = ("カルテ記載。" * 40 + "\n").encode("cp932")
    (tmp_path / "s.txt").write_bytes(sjis)
    _, bad, _ = read([tmp_path], encoding="utf-8")
    assert [q.error for q in bad] == [C.QUARANTINE_UNDECODABLE]
    assert "likely" in bad[0].detail


@pytest.mark.parametrize(
    "name, data, encoding",
    [
        ("cp932.jsonl", b"\n".join(good(i) for i in range(3)).decode().encode("cp932"), "cp932"),
        ("eucjp.jsonl", b"\n".join(good(i) for i in range(3)).decode().encode("euc_jp"), "euc_jp"),
        ("utf16.jsonl", b"\n".join(good(i) for i in range(3)).decode().encode("utf-16"), "auto"),
        (
            "utf16be.jsonl",
            b"\xfe\xff" + b"\n".join(good(i) for i in range(3)).decode().encode("utf-16-be"),
            "auto",
        ),
        ("utf16x.jsonl", b"\n".join(good(i) for i in range(3)).decode().encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_jsonl_encodings(tmp_path, name, data, encoding):
    p = tmp_path / name
    p.write_bytes(data)
    for chunk in (1 << 20, 40):  # also split into byte ranges
        docs, bad, _ = read([p], chunk_bytes=chunk, encoding=encoding)
        assert [d.id for d in docs] == ["g0", "g1", "g2"] and bad == []
        assert docs[0].text == REPORT


def test_jsonl_line_not_in_the_explicit_encoding_is_one_record(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(
        good(0).decode().encode("cp932") + b"\n" + b'{"text": "\x82"}\n' + good(1).decode().encode("cp932")
    )
    docs, bad, _ = read([p], encoding="cp932")
    assert [d.id for d in docs] == ["g0", "g1"]
    assert [(q.error, q.line) for q in bad] == [(C.QUARANTINE_UNDECODABLE, 2)]


@pytest.mark.parametrize("value", ["no-such-codec", "base64", "rot13"])
def test_wrong_input_encoding_fails_recipe_loading(value):
    with pytest.raises(RecipeError, match=f"input.encoding '{value}'.*use auto or a Python codec") as e:
        recipe_from_dict({"name": "t", "input": {"encoding": value}, "steps": [{"use": "normalize"}]})
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError):
        ReaderConfig(encoding=value)


def test_recipe_encoding_default_and_codec():
    assert recipe_from_dict({"name": "t", "steps": [{"use": "normalize"}]}).input.encoding == "auto"
    r = recipe_from_dict({"name": "t", "input": {"encoding": "cp932"}, "steps": [{"use": "normalize"}]})
    assert r.input.encoding == "cp932" and r.to_dict()["input"]["encoding"] == "cp932"


# --- 8: missing text ---------------------------------------------------------------------------------
def test_missing_text_keys_counts_field_names_only(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(
        b"\n".join(
            [rec(id="a", body=REPORT), good(0), rec(id="b", body=REPORT, meta={"k": 1}), b'{"\\udc00": 1}']
        )
    )
    docs, bad, (reader,) = read([p])
    assert [d.id for d in docs] == ["g0"]
    assert [q.error for q in bad] == [C.QUARANTINE_MISSING_TEXT] * 3
    assert reader.missing_text_keys == {"id": 2, "body": 2, "meta": 1, "?": 1}
    assert not any(REPORT in k for k in reader.missing_text_keys)


def test_missing_text_keys_of_a_parquet_file_name_every_column(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"id": ["a", "b"], "body": [REPORT, REPORT], "n": [1, 2]}), tmp_path / "p.parquet"
    )
    docs, bad, (reader,) = read([tmp_path])
    assert docs == [] and [q.error for q in bad] == [C.QUARANTINE_MISSING_TEXT] * 2
    assert reader.missing_text_keys == {"id": 2, "body": 2, "n": 2}


# --- 9: JSON array files -----------------------------------------------------------------------------
def pretty(items) -> bytes:
    return json.dumps(items, ensure_ascii=False, indent=2).encode()


@pytest.mark.parametrize(
    "name, data, ids, errors",
    [
        (
            "array.json",
            pretty([{"id": "a", "text": REPORT}, {"text": REPORT}, [1], 5, {"id": "c", "text": REPORT}]),
            ["a", "array.json:1", "c"],
            [(C.QUARANTINE_NOT_AN_OBJECT, 2), (C.QUARANTINE_NOT_AN_OBJECT, 3)],
        ),
        ("bom.json", b"\xef\xbb\xbf  \n" + pretty([{"id": "a", "text": REPORT}]), ["a"], []),
        ("broken.json", pretty([{"id": "a", "text": REPORT}])[:-5], [], [(C.QUARANTINE_INVALID_JSON, 0)]),
        ("deep.json", b"[" * 10000 + b"]" * 10000, [], [(C.QUARANTINE_INVALID_JSON, 0)]),
        ("empty.json", b"[]\n", [], [(C.QUARANTINE_EMPTY_FILE, 0)]),
        ("utf16.json", pretty([{"id": "a", "text": REPORT}]).decode().encode("utf-16"), ["a"], []),
        ("lines.json", good(0) + b"\n" + good(1) + b"\n", ["g0", "g1"], []),  # JSON Lines as before
    ],
)
def test_json_array_files(tmp_path, name, data, ids, errors):
    p = tmp_path / name
    p.write_bytes(data)
    units = plan_units([str(p)], chunk_bytes=16)
    if name != "lines.json":
        assert len(units) == 1  # never split into byte ranges
    docs, bad, _ = read([p], chunk_bytes=16)
    assert [d.id for d in docs] == ids
    assert [(q.error, q.offset) for q in bad] == errors
    assert all(q.line is None for q in bad)
    assert_text_free(bad)
    if name == "array.json":
        assert bad[0].raw == b"[1]"
        assert docs[0].text == REPORT


def test_compressed_json_array(tmp_path):
    (tmp_path / "a.json.gz").write_bytes(
        gzip.compress(pretty([{"id": "a", "text": REPORT}, {"text": REPORT}]))
    )
    docs, bad, _ = read([tmp_path])
    assert [d.id for d in docs] == ["a", "a.json.gz:1"] and bad == []
