"""``cdisc-umsc trace OUT DATASET --where EXPR``: an output record's chain back to raw CRF rows.

The chain is read from ``OUT/lineage`` (written by ``cdisc-umsc run``) and the dataset files;
each step shows the spec line that made it, and the spec lines of the variables follow.
The ``--where`` expression is parsed, never evaluated: ``VAR='text'`` or ``VAR=number`` tests
(``=``, ``!=``) joined by ``and``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cdisc_umsc.core.errors import InputError, UmscError, fail

if TYPE_CHECKING:  # pandas, numpy and lineage are imported by the command only
    import numpy as np
    import pandas as pd

_TOKEN = re.compile(
    r"""\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|<>|=)
                    |'(?P<sq>(?:[^']|'')*)'|"(?P<dq>(?:[^"]|"")*)"
                    |(?P<num>[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?))""",
    re.X,
)


@dataclass(frozen=True)
class Comparison:
    """One comparison of a where expression."""

    variable: str
    op: str
    text: str
    number: float | None


def parse_where(expr: str) -> list[Comparison]:
    """``A='x' and B!=3`` -> tests; a one-line InputError naming the position otherwise."""
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            raise InputError(
                f"--where: cannot read {expr[pos : pos + 20]!r} at character "
                f"{pos + 1} (expected VAR='value' [and ...])"
            )
        kind = m.lastgroup or ""
        value, start = m.group(kind), m.start(kind) + 1
        if kind in ("sq", "dq"):
            value, kind = value.replace("''", "'").replace('""', '"'), "str"
        tokens.append((kind, value, start))
        pos = m.end()
    tests: list[Comparison] = []
    i = 0
    while i < len(tokens):
        if tests:
            if tokens[i][0] != "name" or tokens[i][1].lower() != "and":
                raise InputError(f"--where: expected 'and' at character {tokens[i][2]}")
            i += 1
        part = tokens[i : i + 3]
        kinds = [k for k, _v, _p in part]
        if (
            len(part) < 3
            or kinds[0] != "name"
            or kinds[1] != "op"
            or kinds[2] not in ("str", "num")
        ):
            # the first token out of place: the name, the operator, or the value
            wanted = (
                ("name", "a variable name"),
                ("op", "= or !="),
                ("value", "a quoted 'value' or a number"),
            )
            bad = next(
                (
                    (j, what)
                    for j, (kind, what) in enumerate(wanted)
                    if j >= len(part)
                    or kinds[j] != kind
                    and not (kind == "value" and kinds[j] in ("str", "num"))
                ),
                (0, wanted[0][1]),
            )
            at = part[bad[0]][2] if bad[0] < len(part) else len(expr) + 1
            raise InputError(
                f"--where: expected {bad[1]} at character {at} (VAR='value' or VAR=number)"
            )
        op = "!=" if part[1][1] in ("!=", "<>") else "="
        number = float(part[2][1]) if kinds[2] == "num" else None
        tests.append(Comparison(part[0][1].upper(), op, part[2][1], number))
        i += 3
    if not tests:
        raise InputError("--where: empty expression (expected VAR='value' [and ...])")
    return tests


def select(frame: pd.DataFrame, tests: list[Comparison], dataset: str) -> np.ndarray:
    """Positions of the records of ``frame`` passing every test."""
    import numpy as np

    ok = np.ones(len(frame), dtype=bool)
    for t in tests:
        if t.variable not in frame.columns:
            raise InputError(f"--where: {dataset} has no variable {t.variable}")
        col = frame[t.variable]
        if col.dtype.kind == "f":
            if t.number is None:
                raise InputError(
                    f"--where: {dataset}.{t.variable} is numeric; compare it with "
                    f"a number, not '{t.text}'"
                )
            hit = (col == t.number).to_numpy()
        else:
            hit = (col.fillna("").astype(str) == t.text).to_numpy()
        ok &= hit if t.op == "=" else ~hit
    return np.flatnonzero(ok)


def resolve_dataset(out_dir: Path, name: str) -> str:
    """'adam/adqs.xpt', 'adqs', 'ADQS' or 'sdtm/QS' -> 'adam/ADQS' (must exist in OUT)."""
    from cdisc_umsc import lineage
    from cdisc_umsc.read.datasets import is_dataset_file

    path = Path(name)
    parts = [p for p in path.parts if p not in (".", "")]
    stem = path.stem.upper() if is_dataset_file(path) else path.name.upper()
    part = parts[-2].lower() if len(parts) >= 2 and parts[-2].lower() in ("sdtm", "adam") else ""
    for candidate in [part] if part else ["adam", "sdtm"]:
        if (out_dir / lineage.FOLDER / candidate / f"{stem.lower()}.csv").is_file():
            return f"{candidate}/{stem}"
    raise InputError(f"{out_dir}: no dataset {name} with lineage (run cdisc-umsc run first)")


class Tracer:
    """Walks lineage from output records back to raw rows, reading datasets on demand."""

    def __init__(self, out_dir: Path) -> None:
        self.out = Path(out_dir)
        self._frames: dict[str, pd.DataFrame] = {}
        self._edges: dict[str, pd.DataFrame] = {}
        self.steps: dict[tuple[str, str], None] = {}

    def frame(self, dataset: str) -> pd.DataFrame:
        if dataset not in self._frames:
            from cdisc_umsc.read.datasets import load_dataset

            part, _, name = dataset.partition("/")
            self._frames[dataset] = load_dataset(self.out / part, name)
        return self._frames[dataset]

    def edges(self, dataset: str) -> pd.DataFrame:
        if dataset not in self._edges:
            from cdisc_umsc import lineage

            self._edges[dataset] = lineage.read_records(self.out, dataset)
        return self._edges[dataset]

    def describe(self, dataset: str, record: int) -> str:
        import numpy as np

        frame = self.frame(dataset)
        if not 1 <= record <= len(frame):
            raise InputError(
                f"{dataset}: lineage names record {record} but the dataset has {len(frame)} records"
            )
        row = frame.iloc[record - 1]
        dom = dataset.split("/")[1]
        wanted = [
            "USUBJID",
            "PARAMCD",
            "AVISIT",
            "DTYPE",
            "AVAL",
            "ABLFL",
            "ANL01FL",
            f"{dom}SEQ",
            f"{dom}TESTCD",
            f"{dom}TERM",
            "VISIT",
            f"{dom}ORRES",
            f"{dom}STRESN",
            f"{dom}DTC",
            f"{dom}DRVFL",
            "QNAM",
            "QVAL",
        ]
        shown = []
        for var in wanted:
            if var in frame.columns:
                value = row[var]
                if isinstance(value, float):
                    if np.isnan(value):
                        continue
                    value = f"{value:g}"
                if value != "":
                    shown.append(f"{var}={value}")
        return f"{dataset} record {record}: {' '.join(shown)}"

    def walk(self, dataset: str, record: int, depth: int, seen: set) -> list[str]:
        import pandas as pd

        pad = "  " * depth
        lines = [f"{pad}{self.describe(dataset, record)}"]
        if (dataset, record) in seen:
            return [lines[0] + "  (traced above)"]
        seen.add((dataset, record))
        edges = self.edges(dataset)
        mine = edges[edges["record"] == record]
        for step in pd.unique(mine["step"]):
            lines.append(f"{pad}  made by {step}")
        sources = mine[["kind", "source", "row", "key"]]
        for kind, src, row, given in sources.itertuples(index=False, name=None):  # a few
            source = str(src)
            key = f" ({given})" if given else ""
            if kind == "raw":
                self.steps[(dataset, source)] = None
                lines.append(f"{pad}  <- raw {source} row {row}{key}")
            elif kind == "spec":
                self.steps[(dataset, "*")] = None
                lines.append(f"{pad}  <- spec {source}:{row}")
            else:
                self.steps[(dataset, "derived" if source == dataset else "*")] = None
                lines += self.walk(source, int(row), depth + 1, seen)
        self.steps.setdefault((dataset, "*"), None)
        return lines

    def spec_lines(self) -> list[str]:
        from cdisc_umsc import lineage

        table = lineage.read_variables(self.out)
        lines = []
        for dataset, source in self.steps:
            sel = (table["dataset"] == dataset) & (table["source"] == source)
            if not sel.any():
                continue
            where = "all records" if source == "*" else f"records from {source}"
            lines.append(f"{dataset} ({where}):")
            lines += [f"  {r.variable:<9} {r.spec}" for r in table[sel].itertuples(index=False)]
        return lines


def trace(out_dir: Path, dataset: str, where: str, limit: int = 20) -> list[str]:
    """The lines ``cdisc-umsc trace`` prints."""
    out_dir = Path(out_dir)
    tests = parse_where(where)
    name = resolve_dataset(out_dir, dataset)
    tracer = Tracer(out_dir)
    hits = select(tracer.frame(name), tests, name)
    if not len(hits):
        raise InputError(f"{name}: no record matches --where {where!r}")
    lines: list[str] = []
    for pos in hits[:limit]:
        lines += tracer.walk(name, int(pos) + 1, 0, set())
        lines.append("")
    if len(hits) > limit:
        lines.append(f"({len(hits) - limit} more matching records not shown; use --limit)")
        lines.append("")
    lines.append("Spec lines of the variables at each step:")
    lines += tracer.spec_lines()
    return lines


@click.command("trace")
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.argument("dataset")
@click.option(
    "--where",
    "where",
    required=True,
    help="Records to trace, e.g. \"USUBJID='X' and PARAMCD='TOTSCORE'\".",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Trace at most this many matching records.",
)
def command(out_dir: Path, dataset: str, where: str, limit: int) -> None:
    """Print the chain from DATASET records back to raw CRF rows, with the spec lines."""
    try:
        lines = trace(out_dir, dataset, where, limit)
    except UmscError as exc:
        fail(exc)
    click.echo("\n".join(lines))
