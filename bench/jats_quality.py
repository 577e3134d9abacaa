"""Text quality of the JATS reader on real articles: line breaks, citation residue, author-year
citations and exponents kept.

    python bench/jats_quality.py [DIR] [--baseline-rev REV]

DIR defaults to ../shared/data/jats (18 real PMC, eLife and SciELO articles). With
``--baseline-rev`` the same figures are computed for ``jmedcorpus/io/jats.py`` as it was at that
git revision, in the same run. Measures, over all files:

- mid-sentence breaks: line boundaries after which the next line starts with a lowercase Latin
  letter or hiragana, or where the line before ends with a comma;
- residue: `` ,`` `` .`` `` ;`` before a space or line end, ``(;``, ``;)``, ``()``, ``[]``, ``, ,``;
- author-year citations kept: ``<xref ref-type="bibr">`` with a word in it (``Smith et al.,
  2003``), in the rendered parts of body and abstracts, whose text is in the output;
- exponents kept: numeric ``<sup>`` right after a digit (``10<sup>7</sup>``) rendered as ``d^n``.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESIDUE = re.compile(r"\s[,.;:](?=\s|$)|[(\[]\s*[;,]|[;,]\s*[)\]]|\(\s*\)|\[\s*\]|,\s*,", re.MULTILINE)
EXPONENT_OUT = re.compile(r"\d\^[−\-+]?\d")
NUMBER = re.compile(r"[−\-+]?\d+(?:\.\d+)?")
WORD = re.compile(r"[^\W\d_]{2,}")
HIDDEN = {"fig", "table-wrap", "fig-group", "table-wrap-group", "ref-list", "ack", "fn-group", "fn",
          "supplementary-material", "app-group", "glossary", "table", "alternatives"}  # fmt: skip


def load(rev: str | None):
    if not rev:
        import jmedcorpus.io.jats as current

        return current
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:jmedcorpus/io/jats.py"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "jats_baseline.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("jats_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["jats_baseline"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def visible(root):
    """Elements of body and abstracts that the reader renders (not floats, notes, back matter)."""
    jats = load(None)
    stack = [e for e in root.iter() if local(e.tag) in ("body", "abstract", "trans-abstract")]
    while stack:
        el = stack.pop()
        name = local(el.tag)
        if name in HIDDEN or (name == "sec" and jats._is_back_matter(el)):
            continue
        yield el
        stack.extend(el)


def source_counts(data: bytes) -> tuple[list[str], int]:
    """Author-year citation texts and numeric exponents after a digit, in rendered parts."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return [], 0
    authors, exponents = [], 0
    for el in visible(root):
        children = list(el)
        for i, child in enumerate(children):
            text = " ".join("".join(child.itertext()).split())
            if local(child.tag) == "xref" and child.get("ref-type") == "bibr" and WORD.search(text):
                authors.append(text)
            before = children[i - 1].tail if i else el.text
            if (
                local(child.tag) == "sup"
                and NUMBER.fullmatch(text)
                and (before or "").rstrip()[-1:].isdigit()
            ):
                exponents += 1
    return authors, exponents


def measure(module, files: list[Path]) -> dict:
    totals = {"files": 0, "lines": 0, "mid_sentence_breaks": 0, "residue": 0,
              "author_citations": 0, "author_citations_kept": 0, "exponents": 0, "exponents_kept": 0,
              "errors": 0}  # fmt: skip
    for path in files:
        data = path.read_bytes()
        try:
            text = module.parse_jats(data).text
        except module.JatsError:
            totals["errors"] += 1
            continue
        totals["files"] += 1
        lines = text.split("\n")
        totals["lines"] += len(lines)
        for a, b in itertools.pairwise(lines):
            if re.match(r"[a-z\u3041-\u309f]", b) or a.endswith((",", "、", "，")):
                totals["mid_sentence_breaks"] += 1
        totals["residue"] += len(RESIDUE.findall(text))
        authors, exponents = source_counts(data)
        flat = " ".join(text.split())
        totals["author_citations"] += len(authors)
        totals["author_citations_kept"] += sum(a in flat for a in authors)
        totals["exponents"] += exponents
        totals["exponents_kept"] += min(exponents, len(EXPONENT_OUT.findall(text)))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dir", nargs="?", default=str(ROOT.parent / "shared" / "data" / "jats"))
    parser.add_argument("--baseline-rev", help="git revision of jats.py to compare with, e.g. HEAD~3")
    args = parser.parse_args()
    files = sorted(p for p in Path(args.dir).iterdir() if p.suffix in (".xml", ".nxml"))
    runs = [("now", measure(load(None), files))]
    if args.baseline_rev:
        runs.insert(0, (args.baseline_rev, measure(load(args.baseline_rev), files)))
    keys = list(runs[0][1])
    print(f"{len(files)} files in {args.dir}")
    print(f"{'':<24}" + "".join(f"{name:>14}" for name, _ in runs))
    for key in keys:
        print(f"{key:<24}" + "".join(f"{r[key]:>14,}" for _, r in runs))
    for name, r in runs:
        share = r["author_citations_kept"] / max(r["author_citations"], 1)
        exp = r["exponents_kept"] / max(r["exponents"], 1)
        print(f"{name}: author-year citations kept {share:.1%}, exponents kept {exp:.1%}")


if __name__ == "__main__":
    main()
