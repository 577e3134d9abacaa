"""The package's layers: lower ones never import higher ones (an AST walk, function-level imports
included). ``text/`` and ``io/`` are the bottom: they import neither steps nor commands;
``filters/``, ``dedup/`` and ``pii/`` (the steps) import no command (``synth/``, ``pipelines/``,
``report/``, ``cli``); ``domain/`` (the medical-domain model the ``medical_domain`` step loads)
imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "jmedcorpus"
COMMANDS = ("synth", "pipelines", "report", "cli")
STEPS = ("filters", "dedup", "pii")
FORBIDDEN = {
    "text": COMMANDS + STEPS + ("io",),
    "io": COMMANDS + STEPS,
    **{layer: COMMANDS for layer in STEPS},
    "domain": COMMANDS + STEPS,
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("jmedcorpus.")}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_lower_layer_never_imports_a_higher_one(layer):
    bad = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in imports(path):
            if name.split(".")[1] in FORBIDDEN[layer]:
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not bad, bad
