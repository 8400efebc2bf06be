"""Mutation pass, run by hand: flip each comparison operator of a module, one at a time, and
run the tests that should notice; print the mutants that survive.

    python scripts/mutation_pass.py cdisc_umsc/sdtm/algorithms.py tests/test_sdtm_algorithms.py

Each mutant swaps one operator for its boundary twin (< and <=, > and >=) or its negation
(== and !=) in a scratch copy of the source tree, so the checkout is never edited. A mutant
survives when the tests still pass; each survivor is a boundary or a condition no test pins.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TWIN = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "=="}
TEXT = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


def mutants(source: str) -> list[tuple[int, int, str, str]]:
    """(line, column, operator, replacement) of every comparison operator in ``source``."""
    found = []
    lines = source.splitlines(keepends=True)
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        for op, right in zip(node.ops, node.comparators, strict=True):
            kind = type(op)
            if kind not in TWIN:
                continue
            # the operator sits between the previous operand's end and this operand's start
            line = right.lineno - 1
            text = lines[line][: right.col_offset]
            col = text.rfind(TEXT[kind])
            if col < 0:  # the operator ends a line above its operand: not mutated
                continue
            found.append((line, col, TEXT[kind], TWIN[kind]))
    return sorted(set(found))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", type=Path)
    parser.add_argument("tests", nargs="+")
    args = parser.parse_args()
    source = (ROOT / args.module).read_text(encoding="utf-8")
    survived, killed = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "tree"
        shutil.copytree(ROOT / "cdisc_umsc", scratch / "cdisc_umsc")
        shutil.copytree(ROOT / "tests", scratch / "tests")
        for name in ("fixtures", "mappings", "pyproject.toml"):
            src = ROOT / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, scratch / name)
        target = scratch / args.module
        all_mutants = mutants(source)
        for n, (line, col, old, new) in enumerate(all_mutants, 1):
            lines = source.splitlines(keepends=True)
            lines[line] = lines[line][:col] + new + lines[line][col + len(old) :]
            target.write_text("".join(lines), encoding="utf-8")
            res = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args.tests],
                cwd=scratch,
                env={**os.environ, "PYTHONPATH": str(scratch)},
                capture_output=True,
                text=True,
                check=False,
            )
            where = f"{args.module}:{line + 1}: {old} -> {new}: {lines[line].strip()}"
            if res.returncode == 0:
                survived.append(where)
                print(f"[{n}/{len(all_mutants)}] SURVIVED {where}", flush=True)
            else:
                killed += 1
                print(f"[{n}/{len(all_mutants)}] killed {where}", flush=True)
        target.write_text(source, encoding="utf-8")
    print(f"mutants={killed + len(survived)} killed={killed} survived={len(survived)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
