"""The README's first section works as written on a fresh machine: both commands install the
tested versions, the snippet after command 1 needs only what command 1 installs, and it runs."""

from __future__ import annotations

import ast
import os
import re
import shutil
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def first_section() -> str:
    return README.split("## Two commands", 1)[1].split("\n## ", 1)[0]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def commands() -> list[str]:
    (block,) = code_blocks(first_section(), "bash")
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def closure(extras: tuple[str, ...] = ()) -> set[str]:
    """Distributions installed by ``pip install -e .[extras]``: jmedcorpus's requirements and
    theirs, recursively (markers evaluated on this interpreter)."""
    seen: set[str] = set()
    todo = [(r, extras) for r in requires("jmedcorpus") or []]
    while todo:
        raw, wanted = todo.pop()
        req = Requirement(raw)
        envs = [{"extra": e} for e in wanted] or [{"extra": ""}]
        if req.marker is not None and not any(req.marker.evaluate(env) for env in envs):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += [(r, tuple(req.extras)) for r in requires(req.name) or []]
        except PackageNotFoundError:
            pass
    return seen


def test_both_commands_install_the_tested_versions():
    build, tests = commands()
    assert "pip install -c constraints.txt -e . " in build and "jmedcorpus build --input samples/" in build
    assert 'pip install -c constraints.txt -e ".[dev]"' in tests and tests.endswith("-m pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci  # CI runs the README's test command, character for character


@pytest.mark.skipif(
    os.environ.get("JMEDCORPUS_UNPINNED") == "1",
    reason=".ci/run-latest installs without constraints on purpose; it prints the drift instead",
)
def test_constraints_pin_everything_the_tests_install():
    pins = constraints()
    for name in closure(("dev",)):
        assert name in pins, f"{name} is installed by .[dev] but not pinned in constraints.txt"
    for raw in requires("jmedcorpus") or []:
        req = Requirement(raw)
        version = pins.get(canonicalize_name(req.name))
        if version is not None:  # a pin outside pyproject's range would make pip fail to resolve
            assert req.specifier.contains(version, prereleases=True), (
                f"{req.name}=={version} vs {req.specifier}"
            )


def test_the_output_snippet_needs_only_what_command_1_installs():
    (snippet,) = code_blocks(first_section(), "python")
    modules = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(ast.parse(snippet))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    core, owners = closure(), packages_distributions()
    for module in modules:
        dists = {canonicalize_name(d) for d in owners.get(module, [])}
        assert dists & core, f"the README snippet imports {module}, which 'pip install -e .' does not install"


@pytest.mark.ray
def test_the_output_snippet_runs_on_a_build(ray_local, data_dir, tmp_path, monkeypatch, capsys):
    from jmedcorpus.pipelines.build import BuildOptions, build
    from jmedcorpus.recipe import load_recipe

    src = tmp_path / "samples"
    src.mkdir()
    for name in ("case_reports_ja.jsonl", "pubmedqa_en.jsonl"):
        shutil.copy(data_dir / name, src)
    out = tmp_path / "sample-out"
    m = build(BuildOptions([str(src)], str(out), load_recipe(), workers=2, progress=False))
    monkeypatch.chdir(tmp_path)
    (snippet,) = code_blocks(first_section(), "python")
    exec(compile(snippet, "README.md", "exec"), {})  # noqa: S102 - the README snippet, as a user runs it
    printed = capsys.readouterr().out
    assert printed.startswith(f"{m['counts']['kept']} [") and "lang_not_ja" in printed


def test_the_architecture_map_is_generated_from_the_tree():
    """Every module is in the README's map with its docstring's first sentence: regenerate it
    with `.ci/architecture-map --write` after adding, moving or re-describing a module."""
    from importlib.machinery import SourceFileLoader

    tool = SourceFileLoader("architecture_map", str(ROOT / ".ci" / "architecture-map")).load_module()
    in_readme = README.split("## Architecture\n\n```\n", 1)[1].split("```\n", 1)[0]
    assert in_readme == tool.architecture_map(), "README map is stale: run .ci/architecture-map --write"
