"""Speed of each per-document step of the default recipe, one process, one core.

Builds at least ``--mb`` MB (10^6 bytes of UTF-8 text) of distinct documents from the sentences of
the real samples in ../shared/data (seeded: 8-40 sentences each from the Japanese case reports or
licensing-exam questions, and with ``--english-share`` that share of documents from the English
PubMedQA abstracts and exam translations), then times every per-document step of the shipped
``ja_medical`` recipe (the corpus-wide dedup steps excluded) on that text, in two ways:

- **alone**: one step over all documents before the next step starts, so a step pays for every
  per-document computation it needs (the one-document caches of ``non_space_len`` and
  :func:`jmedcorpus.text.charclass.char_counts` are cold for it), except the MeCab tokens, which
  in a build come from the ``mecab`` step: they are computed untimed first;
- **in recipe**: through the whole step list as a build task runs it (batches of 64 documents,
  each step over the batch before the next), so a step gets what an earlier step left in a cache
  (MeCab's tokens, the ratio filters' one character scan) and pays for what the steps between
  its documents evict from the CPU cache.

Each step sees the text the steps before it produce (normalized, then personal information
replaced); every step runs on every document (none is dropped), so all rows cover the same bytes.
Only the step's own call is timed (``filter`` for filters, the step's ``run`` on one document for
the others), and each document counts with its fastest of ``--repeat`` rounds, so that other work
on a shared machine inflates the figures less; still, take the digits as approximate. MB are
10^6 bytes of the UTF-8 text the step receives, per second of one core. Prints a Markdown table;
never prints document text.

``--language-agreement`` instead measures what the language step's bounded sample
(:func:`jmedcorpus.text.langid.predict_sample`) changes against classifying whole texts, on
the test fixtures, ../shared/data, the JATS test articles and seeded synthetic long and mixed
English+Japanese documents: labels, keep/drop decisions of the default settings, score gaps,
and share of characters classified (the language step's cost is linear in it).

usage: python bench/bench_steps.py [--data-dir DIR] [--mb 5] [--seed 0] [--repeat 3]
                                   [--sentences 8-40] [--english-share 0.0] [--steps a,b,...]
                                   [--json out.json]
       python bench/bench_steps.py --language-agreement [--data-dir DIR] [--seed 0]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import time
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from jmedcorpus.recipe import load_recipe
from jmedcorpus.text.mecab import get_tokenizer
from jmedcorpus.text.recent import BATCH_DOCS

MB = 1_000_000
JA_SOURCES = ("case_reports.jsonl", "igakuqa_2018_2022_ja.jsonl")
EN_SOURCES = ("pubmedqa_en.jsonl", "igakuqa_2018_2022_en.jsonl")
SENTENCE_END = re.compile(r"(?<=[。．\n])|(?<=[.!?] )")  # not inside "15.2 mg/dL"
CORPUS_WIDE = {"exact_dedup", "minhash_dedup"}
# steps that read the MeCab tokens of the document (the build's mecab step computed them)
USES_TOKENS = {"medical_density", "medical_domain", "gopher_repetition"}


def load_sentences(data_dir: Path, names) -> list[str]:
    sentences: list[str] = []
    for name in names:
        path = data_dir / name
        if not path.exists():
            sys.exit(f"bench_steps: missing {path} (use --data-dir)")
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    sentences.extend(s for s in SENTENCE_END.split(json.loads(line)["text"]) if s.strip())
    return sentences


def make_docs(
    data_dir: Path, target_mb: float, seed: int, english_share: float, sentences: tuple[int, int] = (8, 40)
) -> list[str]:
    pools = {"ja": load_sentences(data_dir, JA_SOURCES)}
    if english_share:
        pools["en"] = load_sentences(data_dir, EN_SOURCES)
    return sample_docs(pools, target_mb, seed, english_share, sentences)


def sample_docs(
    pools: dict[str, list[str]], target_mb: float, seed: int, english_share: float = 0.0, sentences=(8, 40)
) -> list[str]:
    """Distinct documents of ``sentences`` random sentences from ``pools`` ("ja", optionally
    "en" with ``english_share``), at least ``target_mb`` MB in all (also used by bench_pii.py)."""
    rng = random.Random(seed)
    seen: set[str] = set()
    docs: list[str] = []
    total = 0
    while total < target_mb * MB:
        pool = pools["en" if english_share and rng.random() < english_share else "ja"]
        text = "".join(pool[rng.randrange(len(pool))] for _ in range(rng.randint(*sentences)))
        if text in seen:
            continue
        seen.add(text)
        docs.append(text)
        total += len(text.encode("utf-8"))
    return docs


def step_name(step) -> str:
    return getattr(step, "registered_name", step.name)


def call(step, text: str) -> str:
    """Run one step on one document; return the text the next step sees."""
    doc = Document(text=text, id="bench", metadata={})
    if isinstance(step, BaseFilter):
        step.filter(doc)
        return doc.text
    for out in step.run(iter([doc])):
        doc = out
    return doc.text


def inputs_per_step(steps, docs: list[str]) -> list[list[str]]:
    """The text each step sees, document by document (untimed)."""
    per_step, texts = [], docs
    for step in steps:
        per_step.append(texts)
        texts = [call(step, t) for t in texts]
    return per_step


def time_alone(step, texts: list[str]) -> list[float]:
    """Seconds per document of ``step`` run over all of ``texts``."""
    tokenizer = get_tokenizer()
    needs_tokens = step_name(step) in USES_TOKENS
    clock = time.perf_counter
    spent = []
    for text in texts:
        text = "".join(text)  # a fresh object: identity caches start cold, as in a new document
        if needs_tokens:
            tokenizer.word_tokenize(text)
        started = clock()
        call(step, text)
        spent.append(clock() - started)
    return spent


def time_in_recipe(steps, docs: list[str]) -> list[list[float]]:
    """Seconds per step and document, as a build task runs them: batches of ``BATCH_DOCS``
    documents, each step over the whole batch before the next (:mod:`jmedcorpus.pipelines.unit`)."""
    clock = time.perf_counter
    spent = [[] for _ in steps]
    for first in range(0, len(docs), BATCH_DOCS):
        texts = docs[first : first + BATCH_DOCS]
        for k, step in enumerate(steps):
            for j, text in enumerate(texts):
                started = clock()
                texts[j] = call(step, text)
                spent[k].append(clock() - started)
    return spent


def fastest(rounds: list[list[float]]) -> float:
    """Sum over documents of each document's fastest round: a round slowed down by other work on
    the machine (preemption, a shared cache) costs only the documents it hit."""
    return sum(map(min, zip(*rounds)))


# ----------------------------------------------------------------------------- language sample


def _agreement_sets(data_dir: Path, seed: int) -> dict[str, list[str]]:
    import glob
    import gzip

    from jmedcorpus.io.jats import JatsError, JatsOptions, parse_jats
    from jmedcorpus.text.normalize import normalize_text

    tests = Path(__file__).resolve().parents[1] / "tests" / "data"
    sets: dict[str, list[str]] = {}
    for name in (*JA_SOURCES, *EN_SOURCES, "wikipedia_ja_paragraphs.jsonl"):
        with open(data_dir / name, encoding="utf-8") as f:
            sets[name] = [normalize_text(json.loads(line)["text"]) for line in f if line.strip()]
    fixtures = []
    for path in sorted(tests.glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        fixtures += [normalize_text(r["text"]) for r in records if isinstance(r.get("text"), str)]
    sets["tests/data/*.jsonl"] = fixtures
    articles = []
    for path in sorted(glob.glob(str(tests / "jats*" / "**" / "*.*ml*"), recursive=True)):
        data = Path(path).read_bytes()
        if path.endswith(".gz"):
            data = gzip.decompress(data)
        for options in (JatsOptions(), JatsOptions(english_abstract="keep", captions=True)):
            try:
                articles.append(normalize_text(parse_jats(data, options).text))
            except JatsError:
                pass
    sets["tests/data/jats* articles (2 renderings)"] = [t for t in articles if t]
    rng = random.Random(seed)
    ja = load_sentences(data_dir, (*JA_SOURCES, "wikipedia_ja_paragraphs.jsonl"))
    en = load_sentences(data_dir, EN_SOURCES)

    def draw(pool, lo, hi):
        return "".join(pool[rng.randrange(len(pool))] for _ in range(rng.randint(lo, hi)))

    sets["synthetic ja, 8-400 sentences"] = [draw(ja, 8, 400) for _ in range(1000)]
    sets["synthetic en, 8-200 sentences"] = [draw(en, 8, 200) for _ in range(500)]
    mixed = []
    for _ in range(2000):  # an English title/abstract before, after or inside a Japanese body
        a, b = draw(en, 2, 30), draw(ja, 4, 200)
        mixed.append(
            rng.choice([a + "\n" + b, b + "\n" + a, b[: len(b) // 2] + "\n" + a + "\n" + b[len(b) // 2 :]])
        )
    sets["synthetic en+ja mixtures (built to sit near the boundary)"] = mixed
    return sets


def language_agreement(data_dir: Path, seed: int) -> None:
    from jmedcorpus.text.charclass import kana_ratio
    from jmedcorpus.text.langid import MAX_PREDICT_CHARS, SAMPLE_WINDOWS, get_model, predict_sample

    model = get_model()

    def classify(text):
        labels, scores = model.predict(text.replace("\n", " "), k=1)
        return (
            (labels[0].removeprefix("__label__"), min(float(scores[0]), 1.0)) if labels else ("unknown", 0.0)
        )

    def decision(label, score, text):  # the language step's defaults: ja, min_score 0.5, kana rescue 0.05
        if label != "ja":
            return "drop"
        return "keep" if score >= 0.5 or kana_ratio(text) >= 0.05 else "drop"

    sets = _agreement_sets(data_dir, seed)
    configs = [(MAX_PREDICT_CHARS, SAMPLE_WINDOWS), (1000, 8), (1000, 1), (2000, 1)]
    print("whole text vs. sample (max_chars/windows; windows 1 = the first max_chars characters)\n")
    print(
        "| set | docs | chars median / max | sample | chars classified | same label | same decision "
        "| max score gap (same label) |"
    )
    print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |")
    for name, texts in sets.items():
        whole = [classify(t) for t in texts]
        lengths = sorted(map(len, texts))
        for max_chars, windows in configs:
            samples = [predict_sample(t, max_chars, windows) for t in texts]
            sampled = [classify(t) for t in samples]
            same_label = sum(a[0] == b[0] for a, b in zip(whole, sampled))
            same_decision = sum(decision(*a, t) == decision(*b, t) for a, b, t in zip(whole, sampled, texts))
            gap = max((abs(a[1] - b[1]) for a, b in zip(whole, sampled) if a[0] == b[0]), default=0.0)
            print(
                f"| {name} | {len(texts)} | {lengths[len(lengths) // 2]} / {lengths[-1]} | {max_chars}/{windows} | "
                f"{sum(map(len, samples)) / sum(lengths):.2f} | {same_label} | {same_decision} | {gap:.3f} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--mb", type=float, default=5.0, help="MB of UTF-8 text to generate (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="rounds; the best time per step is kept")
    ap.add_argument("--english-share", type=float, default=0.0, help="share of English documents")
    ap.add_argument("--steps", default="", help="comma-separated step names (default: all per-document)")
    ap.add_argument("--sentences", default="8-40", help="sentences per document, LO-HI (default 8-40)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--alone-only", action="store_true", help="skip the in-recipe timing")
    ap.add_argument("--language-agreement", action="store_true", help="measure the language sample instead")
    args = ap.parse_args()
    if args.language_agreement:
        language_agreement(Path(args.data_dir), args.seed)
        return

    lo, hi = (int(x) for x in args.sentences.split("-"))
    docs = make_docs(Path(args.data_dir), args.mb, args.seed, args.english_share, (lo, hi))
    steps = [s for s in load_recipe().build_steps() if step_name(s) not in CORPUS_WIDE]
    per_step = inputs_per_step(steps, docs)  # also warms every model, dictionary and lexicon
    wanted = set(args.steps.split(",")) - {""}
    sizes = [sum(len(t.encode("utf-8")) for t in texts) / MB for texts in per_step]

    alone_rounds: list[list[list[float]]] = [[] for _ in steps]
    recipe_rounds: list[list[list[float]]] = [[] for _ in steps]
    for _ in range(args.repeat):
        gc.collect()
        for k, step in enumerate(steps):
            if not wanted or step_name(step) in wanted:
                alone_rounds[k].append(time_alone(step, per_step[k]))
        if not args.alone_only:
            gc.collect()
            for k, seconds in enumerate(time_in_recipe(steps, docs)):
                recipe_rounds[k].append(seconds)
    nan = float("nan")
    best_alone = [fastest(r) if r else nan for r in alone_rounds]
    best_recipe = [fastest(r) if r else nan for r in recipe_rounds]

    rows = []
    for k, step in enumerate(steps):
        name = step_name(step)
        if wanted and name not in wanted:
            continue
        rows.append(
            {
                "step": name,
                "mb": sizes[k],
                "alone_s": best_alone[k],
                "alone_mb_s": sizes[k] / best_alone[k],
                "recipe_s": best_recipe[k],
                "recipe_mb_s": sizes[k] / best_recipe[k],
            }
        )
    total_mb = sizes[0]
    total_s = sum(best_recipe)
    chars = sorted(map(len, docs))
    print(
        f"{len(docs)} documents, {total_mb:.2f} MB (seed {args.seed}, {lo}-{hi} sentences, English share "
        f"{args.english_share}; characters per document median {chars[len(chars) // 2]}, max {chars[-1]}); "
        f"per document the fastest of {args.repeat} rounds, one process"
    )
    print("\n| step | alone s | alone MB/s | in recipe s | in recipe MB/s | share of recipe time |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['step']} | {r['alone_s']:.3f} | {r['alone_mb_s']:.1f} | {r['recipe_s']:.3f} | "
            f"{r['recipe_mb_s']:.1f} | {100 * r['recipe_s'] / total_s:.1f}% |"
        )
    print(
        f"| all per-document steps | {sum(best_alone):.3f} | {total_mb / sum(best_alone):.2f} | {total_s:.3f} | "
        f"{total_mb / total_s:.2f} | 100% |"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"docs": len(docs), "mb": total_mb, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
