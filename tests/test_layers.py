"""The import contract: layers point down, only the CLI knows Typer, only the CLI and
render know rich or print. Read from the import graph of the source (grimp, which
import-linter uses), so lazy imports inside functions count too. `.ci/run` also runs
`lint-imports` for the no-cycles contract in pyproject.toml."""

from __future__ import annotations

import ast

import grimp
import pytest

from tests.conftest import ROOT

SRC = ROOT / "src" / "cstool"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("cstool", include_external_packages=True)


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _ours(graph: grimp.ImportGraph) -> list[str]:
    return sorted(m for m in graph.modules if _under(m, "cstool"))


def _importers(graph: grimp.ImportGraph, imported: str) -> set[str]:
    found = set()
    for module in graph.modules:
        if _under(module, imported):
            found |= graph.find_modules_that_directly_import(module)
    return found


def test_typer_is_imported_only_under_cli(graph: grimp.ImportGraph) -> None:
    outside = sorted(m for m in _importers(graph, "typer") if not _under(m, "cstool.cli"))
    assert outside == []


def test_rich_is_imported_only_under_cli_and_render(graph: grimp.ImportGraph) -> None:
    allowed = ("cstool.cli", "cstool.render")
    outside = sorted(m for m in _importers(graph, "rich") if not _under(m, *allowed))
    assert outside == []


def test_the_core_never_imports_cli_or_render(graph: grimp.ImportGraph) -> None:
    upward = sorted(
        (importer, imported)
        for imported in ("cstool.cli", "cstool.render")
        for importer in _importers(graph, imported)
        if _under(importer, "cstool")
        and not _under(importer, "cstool.cli", "cstool.render", "cstool.__main__")
    )
    assert upward == []


def test_render_never_imports_cli(graph: grimp.ImportGraph) -> None:
    assert sorted(m for m in _importers(graph, "cstool.cli") if _under(m, "cstool.render")) == []


def test_nothing_below_cli_and_render_prints() -> None:
    printing = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith(("cli/", "render/")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "print"
            ):
                printing.append(f"{relative}:{node.lineno}")
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("stdout", "stderr")
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ):
                printing.append(f"{relative}:{node.lineno}")
    assert printing == []


def test_the_graph_is_the_whole_package(graph: grimp.ImportGraph) -> None:
    files = {
        "cstool." + ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for p in SRC.rglob("*.py")
    }
    files = {f.removesuffix(".__init__") for f in files} | {"cstool"}
    assert files <= set(_ours(graph)) | {"cstool.__main__"}
