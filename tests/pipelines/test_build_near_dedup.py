"""Near-duplicate removal in real builds: planted copies of real case reports are removed with
``duplicate_of`` and ``cluster``, and the kept set does not depend on workers or input order."""

import json
import random

import pyarrow.parquet as pq
import pytest
from conftest import read_jsonl

from jmedcorpus.pipelines.build import BuildOptions, build
from jmedcorpus.recipe import load_recipe
from jmedcorpus.text.sentences import split_sentences

pytestmark = pytest.mark.ray

HEADER = "日本内科学会雑誌 第110巻 第3号 2021年\n"
FOOTER = "\n利益相反：著者らに開示すべき利益相反はない。"


def planted(data_dir) -> tuple[list[dict], dict[str, str]]:
    """Real reports and questions plus near copies of three reports; returns the records and, for
    each copy, the report it copies."""
    reports = read_jsonl(data_dir / "case_reports_ja.jsonl")
    questions = read_jsonl(data_dir / "igakuqa_ja.jsonl")
    r0, r1, r2 = (reports[i]["text"] for i in (0, 1, 2))
    s1 = split_sentences(r1)
    copies = {
        "copy-header": (HEADER + r0, reports[0]["id"]),
        "copy-footer": (r2 + FOOTER, reports[2]["id"]),
        "copy-dropped-last": ("\n".join(s1[:-1]), reports[1]["id"]),
        "copy-edited-number": (r1.replace("１", "３", 1), reports[1]["id"]),
    }
    records = (
        reports + questions + [{"id": k, "text": t, "source": "planted"} for k, (t, _) in copies.items()]
    )
    return records, {k: orig for k, (_, orig) in copies.items()}


def write(records, path):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def run(inputs, out, workers):
    recipe = load_recipe()
    recipe.input.chunk_mb = 0.004  # ~4 KB units: many tasks, so workers really split the work
    opts = BuildOptions(
        inputs=[str(p) for p in inputs], output=str(out), recipe=recipe, workers=workers, progress=False
    )
    return build(opts)


def kept_ids(out) -> set[str]:
    return set(pq.read_table(str(out / "data"), columns=["id"]).column("id").to_pylist())


def removed(out, step) -> list[dict]:
    return pq.read_table(str(out / "removed" / step)).drop(["text"]).to_pylist()


@pytest.fixture(scope="module")
def builds(ray_local, tmp_path_factory, request):
    data_dir = request.getfixturevalue("data_dir")
    records, copies = planted(data_dir)
    root = tmp_path_factory.mktemp("near")
    write(records, root / "a.jsonl")
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    (root / "shuffled").mkdir()
    write(shuffled[:15], root / "shuffled" / "b.jsonl")  # other files, other order, other units
    write(shuffled[15:], root / "shuffled" / "a.jsonl")
    manifests = {
        "one": run([root / "a.jsonl"], root / "one", 1),
        "two": run([root / "a.jsonl"], root / "two", 2),
        "shuffled": run([root / "shuffled"], root / "shuffled-out", 2),
    }
    return root, manifests, copies


def test_planted_copies_are_removed_with_duplicate_of_and_cluster(builds):
    root, _, _ = builds
    rows = {r["id"]: r for r in removed(root / "two", "minhash_dedup")}
    kept = kept_ids(root / "two")
    # keep rule: most characters, then smallest id. The header and footer copies are longer than
    # their reports; the edited-number copy ties with report 0001 and "copy-..." < "medtxt-...".
    assert {i: r["duplicate_of"] for i, r in rows.items()} == {
        "medtxt-cr-0000": "copy-header",
        "medtxt-cr-0002": "copy-footer",
        "medtxt-cr-0001": "copy-edited-number",
        "copy-dropped-last": "copy-edited-number",
    }
    assert {"copy-header", "copy-footer", "copy-edited-number"} <= kept
    for r in rows.values():
        assert r["reason"] == "dedup_near_duplicate" and r["duplicate_of"] in kept
        signals = json.loads(r["signals"])
        assert 0.6 <= signals["near_duplicate_jaccard"] <= 1.0 and signals["cluster_size"] >= 2
    # members of one cluster share its number; different clusters have different numbers
    by_cluster = {}
    for r in rows.values():
        by_cluster.setdefault(r["cluster"], set()).add(r["duplicate_of"])
    assert all(len(keepers) == 1 for keepers in by_cluster.values())


def test_distinct_documents_survive(builds):
    root, _, _ = builds
    kept = kept_ids(root / "two")
    # reports 3..11 and all six exam questions have no copies: none may be removed
    assert {f"medtxt-cr-{i:04d}" for i in range(3, 12)} <= kept
    assert sum(1 for i in kept if i.startswith("igakuqa")) == 6


def test_manifest_records_banding_and_counts(builds):
    _, manifests, _ = builds
    step = next(s for s in manifests["two"]["steps"] if s["name"] == "minhash_dedup")
    d = step["details"]
    assert (d["bands"], d["rows"]) == (25, 5)
    assert step["removed"] == step["reasons"]["dedup_near_duplicate"] >= 3
    assert d["verified_pairs"] <= d["candidate_pairs"] and d["clustered_documents"] > step["removed"]
    assert d["components_bytes_per_document"] > 0
    exact = next(s for s in manifests["two"]["steps"] if s["name"] == "exact_dedup")
    assert step["in"] == exact["out"]  # near-dup dedup sees only what exact dedup kept


def test_kept_set_is_the_same_with_one_or_two_workers_and_shuffled_input(builds):
    root, manifests, _ = builds
    assert kept_ids(root / "one") == kept_ids(root / "two") == kept_ids(root / "shuffled-out")
    key = lambda r: (r["id"], r["duplicate_of"], r["cluster"])
    for step in ("exact_dedup", "minhash_dedup"):
        runs = [sorted(map(key, removed(root / d, step))) for d in ("one", "two", "shuffled-out")]
        assert runs[0] == runs[1] == runs[2]
    assert manifests["one"]["work_units"] > 2
