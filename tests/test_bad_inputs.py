"""The bad-input corpus (tests/bad_inputs/*.yaml), driven by one parametrised test.

Each case edits a copy of the bundled raw forms and spec, runs ``cdisc-umsc run`` and checks
the outcome: a one-line error naming file, row and field with the expected exit code (the
previous output folder untouched, nothing half-written beside it), or a successful run with
every raw row accounted for and the named values or validation finding.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from cdisc_umsc.cli import main
from tests.conftest import RAW, ROOT, SPEC

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
EXPECT_KEYS = {"exit", "message", "records", "values", "finding", "output"}


def load_cases() -> list[dict]:
    """Every case of every corpus file, in file then case order; ids are unique."""
    cases: list[dict] = []
    for path in sorted(CORPUS.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            case["file"] = path.name
            cases.append(case)
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case id"
    return cases


# ------------------------------------------------------------------------------ edits


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def _cell(path: Path, e: dict) -> None:
    """``row``/``column`` set to ``value`` (``repeat`` times; ``quote_all``: every field quoted)."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[int(e["row"])][rows[0].index(e["column"])] = str(e["value"]) * int(e.get("repeat", 1))
    buf = io.StringIO()
    quoting = csv.QUOTE_ALL if e.get("quote_all") else csv.QUOTE_MINIMAL
    csv.writer(buf, lineterminator="\n", quoting=quoting).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def apply_edit(root: Path, edit: dict) -> None:
    """One edit of a case, on ``root``/raw and ``root``/spec."""
    op = next(k for k in edit if k in OPS)
    OPS[op](root / edit[op], edit)


def _replace(path: Path, e: dict) -> None:
    if "line" in e:
        lines = _lines(path)
        i = int(e["line"]) - 1
        assert e["old"] in lines[i], f"{e['old']!r} not on line {e['line']} of {path.name}"
        lines[i] = lines[i].replace(e["old"], e["new"], 1)
        path.write_text("\n".join(lines), encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    assert e["old"] in text, f"{e['old']!r} not in {path.name}"
    path.write_text(
        text.replace(e["old"], e["new"], int(e.get("count", 1)) or -1), encoding="utf-8"
    )


def _truncate(path: Path, e: dict) -> None:
    lines = _lines(path)
    i = int(e["line"]) - 1
    path.write_text("\n".join(lines[:i] + [lines[i][: int(e["chars"])]]), encoding="utf-8")


def _copy_line(path: Path, e: dict) -> None:
    lines = [x for x in _lines(path) if x != ""]
    path.write_text("\n".join([*lines, lines[int(e["line"]) - 1]]) + "\n", encoding="utf-8")


def _drop_column(path: Path, e: dict) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    path.write_text(
        frame.drop(columns=e["column"]).to_csv(index=False, lineterminator="\n"), encoding="utf-8"
    )


def _reorder(path: Path, e: dict) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    path.write_text(
        frame[list(e["columns"])].to_csv(index=False, lineterminator="\n"), encoding="utf-8"
    )


def _add_column(path: Path, e: dict) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame[e["column"]] = str(e["value"])
    path.write_text(frame.to_csv(index=False, lineterminator="\n"), encoding="utf-8")


def _replace_bytes(path: Path, e: dict) -> None:
    """``old`` replaced by ``new`` padded with spaces to its length (a fixed-width XPT cell),
    ``count`` times (0: every occurrence)."""
    old, new = str(e["old"]).encode(), str(e["new"]).encode()
    assert len(new) <= len(old) and old in path.read_bytes(), (e, path.name)
    count = int(e.get("count", 1)) or -1
    path.write_bytes(path.read_bytes().replace(old, new.ljust(len(old)), count))


def _delete(path: Path, _e: dict) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


OPS = {
    "delete": _delete,
    "write": lambda p, e: p.write_text(e["text"], encoding="utf-8"),
    "write_hex": lambda p, e: p.write_bytes(bytes.fromhex(e["hex"])),
    "append": lambda p, e: p.write_text(
        p.read_text(encoding="utf-8") + e["text"], encoding="utf-8"
    ),
    "replace": _replace,
    "cell": _cell,
    "copy_line": _copy_line,
    "drop_column": _drop_column,
    "reorder": _reorder,
    "add_column": _add_column,
    "truncate": _truncate,
    "encode": lambda p, e: p.write_bytes(p.read_text(encoding="utf-8").encode(e["encoding"])),
    "prepend_hex": lambda p, e: p.write_bytes(bytes.fromhex(e["hex"]) + p.read_bytes()),
    "crlf": lambda p, e: p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n")),
    "mkdir": lambda p, e: p.mkdir(),
    "copy": lambda p, e: shutil.copyfile(p, p.with_name(e["to"])),
    "mkfifo": lambda p, e: os.mkfifo(p),
    "symlink": lambda p, e: p.symlink_to(e["to"]),
    "size": lambda p, e: os.truncate(p, int(e["bytes"])),
    "cut": lambda p, e: os.truncate(p, p.stat().st_size - int(e["bytes"])),
    "replace_bytes": _replace_bytes,
    "cr": lambda p, e: p.write_bytes(p.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r")),
}


# ------------------------------------------------------------------------------ outcome


def prepare(case: dict, tmp: Path, run_out: Path | None = None) -> tuple[Path, Path, Path]:
    """Copies of the bundled raw folder and spec (and of the bundled run's SDTM or ADaM
    datasets, for a case that needs them) with the case's edits; an existing out/."""
    raw, spec, out = tmp / "raw", tmp / "spec", tmp / "out"
    shutil.copytree(RAW, raw)
    shutil.copytree(SPEC, spec)
    for part in ("sdtm", "adam"):
        if case.get(part):
            assert run_out is not None
            shutil.copytree(run_out / part, tmp / part)
    for edit in case.get("edits", []):
        apply_edit(tmp, edit)
    out.mkdir()
    (out / "keep.txt").write_text("previous run", encoding="utf-8")
    (out / "manifest.json").write_text('{"tool": {"name": "cdisc-umsc"}}', encoding="utf-8")
    return raw, spec, out


def _check_failure(case: dict, res, tmp: Path, out: Path) -> None:
    expect = case["expect"]
    text = res.output.strip()
    assert isinstance(res.exception, SystemExit), f"not a clean exit: {res.exception!r}"
    assert res.exit_code == expect["exit"], text
    assert text.startswith("error: ") and "\n" not in text and "Traceback" not in text, text
    for part in expect.get("message", []):
        assert part in text, f"{part!r} not in {text!r}"
    # the previous output folder is untouched and nothing half-written is left beside it
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "manifest.json"]
    assert sorted(p.name for p in tmp.iterdir()) == ["out", "raw", "spec"]


def _select(frame: pd.DataFrame, where: dict) -> pd.DataFrame:
    ok = pd.Series(True, index=frame.index)
    for col, value in where.items():
        ok &= frame[col].astype(str) == str(value)
    return frame[ok]


def _read(out: Path, dataset: str, cache: dict) -> pd.DataFrame:
    from cdisc_umsc.read.xpt import read_xpt

    if dataset not in cache:
        part, _, name = dataset.partition("/")
        cache[dataset] = read_xpt(out / part / f"{name.lower()}.xpt")[0]
    return cache[dataset]


def _check_success(case: dict, res, spec: Path, raw: Path, out: Path) -> None:
    expect = case["expect"]
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for form in manifest["raw_forms"]:  # never a silently dropped record
        assert form["read"] == form["mapped"] + form["excluded"], form
    for name, count in (expect.get("records") or {}).items():
        assert manifest["records"].get(name) == count, (name, manifest["records"].get(name))
    cache: dict[str, pd.DataFrame] = {}
    for check in expect.get("values") or []:
        rows = _select(_read(out, check["dataset"], cache), check.get("where") or {})
        assert len(rows) == int(check.get("count", 1)), (check, len(rows))
        for col, want in (check.get("equals") or {}).items():
            got = rows[col]
            if want is None:
                assert (got.isna() | (got.astype(str) == "")).all(), (col, got.tolist())
            else:
                assert (got.astype(str) == str(want)).all(), (col, got.tolist())
    if "finding" in expect:
        from cdisc_umsc.run import run, study_metadata
        from cdisc_umsc.validate import validate_study

        result = run(spec, raw, out.parent / "inspect")
        found = validate_study(
            result.sdtm.data, study_metadata(result.spec, result.sdtm.meta, "Tabulation")
        ).frame
        hits = _select(found, expect["finding"])
        assert len(hits), (
            expect["finding"],
            sorted(set(zip(found["rule"], found["dataset"], found["variable"], strict=True))),
        )


def _tree(root: Path) -> list[tuple[str, str, int, int]]:
    """Every path under ``root`` with its kind, size and modification time."""
    found = []
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        kind = "link" if path.is_symlink() else "dir" if path.is_dir() else oct(st.st_mode)
        found.append((str(path.relative_to(root)), kind, st.st_size, st.st_mtime_ns))
    return found


def _check_command(case: dict, res, tmp: Path, before: list) -> None:
    """A case running another command (``command:``) or from another folder (``cwd:``):
    the expected exit, each message on an ``error:`` line of its own, and nothing under the
    case's folder changed (nor /dev/null)."""
    expect = case["expect"]
    text = res.output.strip()
    assert isinstance(res.exception, SystemExit), f"not a clean exit: {res.exception!r}"
    assert res.exit_code == expect["exit"], text
    assert "Traceback" not in text, text
    lines = text.split("\n")
    if expect.get("output", "one_line") == "one_line":
        assert len(lines) == 1 and text.startswith("error: "), text
    errors = [x for x in lines if x.startswith("error: ")]
    for part in expect.get("message", []):
        assert any(part in x for x in errors), f"{part!r} not on an error line of {text!r}"
    assert _tree(tmp) == before, "the failed command changed a file"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.fixture(scope="module")
def bundled_output(tmp_path_factory) -> Path:
    """The output folder of one run on the bundled trial (derive, validate, report cases)."""
    from cdisc_umsc.run import run

    out = tmp_path_factory.mktemp("bundled") / "out"
    run(SPEC, RAW, out)
    return out


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c["id"])
def test_bad_input(case, tmp_path, request, monkeypatch):
    assert set(case["expect"]) <= EXPECT_KEYS and case.get("about"), case["id"]
    if "command" in case or "cwd" in case:
        needs = case.get("sdtm") or case.get("adam")
        prepare(case, tmp_path, request.getfixturevalue("bundled_output") if needs else None)
        before = _tree(tmp_path)
        monkeypatch.chdir(tmp_path / case.get("cwd", "."))
        where = {"tmp": str(tmp_path), "repo": str(ROOT)}
        args = case.get("command") or ["run", "--spec", "{tmp}/spec", "--raw", "{tmp}/raw"]
        args = [str(a).format(**where) for a in args]
        res = CliRunner().invoke(main, args)
        _check_command(case, res, tmp_path, before)
        return
    raw, spec, out = prepare(case, tmp_path)
    res = CliRunner().invoke(
        main, ["run", "--spec", str(spec), "--raw", str(raw), "--out", str(out)]
    )
    if case["expect"]["exit"] == 0:
        _check_success(case, res, spec, raw, out)
    else:
        _check_failure(case, res, tmp_path, out)


def test_corpus_size_and_coverage():
    cases = load_cases()
    assert len(cases) >= 60
    failures = [c for c in cases if c["expect"]["exit"] == 2]
    successes = [c for c in cases if c["expect"]["exit"] == 0]
    assert len(failures) >= 60 and len(successes) >= 8
    # every failure names the file (raw form or spec file) or the dataset and variable
    for c in failures:
        if "command" in c or "cwd" in c:  # an option of the command, or a dataset file
            assert any("--" in m or ".xpt" in m or ".yaml" in m for m in c["expect"]["message"])
            continue
        assert any(
            ".csv" in m or ".yaml" in m or ": variable " in m for m in c["expect"]["message"]
        ), c["id"]


def test_direct_xpt_write_of_a_value_over_200_bytes_is_an_error(tmp_path):
    from cdisc_umsc.core.errors import WriteError
    from cdisc_umsc.metadata.model import Dataset, Variable
    from cdisc_umsc.write.xpt import write_xpt

    ds = Dataset(
        "AE",
        "Adverse Events",
        "EVENTS",
        "One record per event",
        "SDTMIG 3.4",
        variables=(Variable("AETERM", "Reported Term", "Char", 1),),
    )
    frame = pd.DataFrame({"AETERM": ["Fever", "x" * 201]})
    with pytest.raises(WriteError, match=r"AETERM.*(200|201)"):
        write_xpt(tmp_path / "ae.xpt", frame, ds, created=datetime(2021, 6, 30))
    assert not (tmp_path / "ae.xpt").exists()
