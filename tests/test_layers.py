"""The package's layers show the pipeline: each imports only the layers below it, and no module
imports itself back through another (no import cycles).

Layers, bottom up: core (errors, dates, atomic files, conditions, format facts) and the bundled
standards data; metadata (spec loading, the metadata model, standards access); read; sdtm (map
and conform); validate; adam (derive); write; the output products built from datasets (lineage,
PHI guard, reports, review page); the pipeline (run, api); the command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cdisc_umsc"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core", "standards"),
    ("metadata",),
    ("read",),
    ("sdtm",),
    ("validate",),
    ("adam",),
    ("write",),
    ("lineage", "phi", "report", "review"),
    ("run", "api"),
    ("commands", "cli"),
)


def _layer_of(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "cdisc_umsc":
        raise ValueError(module)
    if len(parts) == 1:  # the package's face re-exports from every layer lazily
        return len(LAYERS)
    for level, names in enumerate(LAYERS):
        if parts[1] in names:
            return level
    raise AssertionError(f"cdisc_umsc.{parts[1]} is in no layer of tests/test_layers.py")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every cdisc_umsc module ``path`` imports, at any depth (function-level imports too)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (
        _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cdisc_umsc")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            if not base.startswith("cdisc_umsc"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                as_file = PACKAGE.parent / Path(*candidate.split("."))
                found.add(
                    candidate if as_file.with_suffix(".py").is_file() or as_file.is_dir() else base
                )
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_import_goes_down_or_sideways() -> None:
    upward = []
    for module, imports in _graph().items():
        if module == "cdisc_umsc":
            continue
        for target in imports:
            if _layer_of(target) > _layer_of(module):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_import_cycles() -> None:
    graph = _graph()
    known = set(graph)

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    edges = {
        m: {t for t in (resolve(i) for i in imps) if t and t != m} for m, imps in graph.items()
    }
    for m in edges:  # a package's face is not an edge back into its own modules
        edges[m] = {t for t in edges[m] if not m.startswith(t + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []
