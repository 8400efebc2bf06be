"""The command line: the main job's output, byte-identical reruns, and one-line errors."""

from __future__ import annotations

import hashlib
import re

import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main
from tests.conftest import RAW, SPEC


def _digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run(*args):
    return CliRunner().invoke(main, ["run", *args])


def test_run_prints_accounting_and_efficacy(tmp_path):
    res = _run("--spec", str(SPEC), "--raw", str(RAW), "--out", str(tmp_path / "out"))
    assert res.exit_code == 0, res.output
    assert re.search(r"PASI40\s+Overall\s+8/17\s+47\.1%", res.output)
    assert re.search(r"PASI40\s+SEX=M\s+2/8\s+25\.0%", res.output)
    assert re.search(r"PASI40\s+SEX=F\s+6/9\s+66\.7%", res.output)
    assert re.search(r"PGA 0/1\s+Overall\s+3/17\s+17\.6%", res.output)
    assert re.search(r"INFUSION\.csv\s+56 read\s+56 mapped\s+0 excluded", res.output)
    names = sorted(p.name for p in (tmp_path / "out" / "sdtm").glob("*.xpt"))
    assert names == [
        "ae.xpt",
        "dm.xpt",
        "ds.xpt",
        "ec.xpt",
        "ex.xpt",
        "lb.xpt",
        "qs.xpt",
        "se.xpt",
        "suppae.xpt",
        "suppdm.xpt",
        "sv.xpt",
        "ta.xpt",
        "te.xpt",
        "ti.xpt",
        "ts.xpt",
        "tv.xpt",
        "vs.xpt",
    ]


def test_rerun_gives_identical_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run("--spec", str(SPEC), "--raw", str(RAW), "--out", str(a)).exit_code == 0
    assert _run("--spec", str(SPEC), "--raw", str(RAW), "--out", str(b)).exit_code == 0
    assert _digest(a) == _digest(b)
    assert _run("--spec", str(SPEC), "--raw", str(RAW), "--out", str(a)).exit_code == 0
    assert _digest(a) == _digest(b)


def _edit(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _fails(raw, tmp_path, *expected):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("previous run")
    (out / "manifest.json").write_text('{"tool": {"name": "cdisc-umsc"}}')
    res = _run("--spec", str(SPEC), "--raw", str(raw), "--out", str(out))
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and "Traceback" not in line, line
    for text in expected:
        assert text in line, line
    # the previous output folder is untouched and nothing half-written is left beside it
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "raw") == ["out"]
    return line


def test_missing_column(raw_copy, tmp_path):
    _edit(raw_copy / "AE.csv", "AESEV,", "SEVERITY,")
    _fails(raw_copy, tmp_path, "AE.csv", "column AESEV", "missing")


def test_impossible_date(raw_copy, tmp_path):
    lines = (raw_copy / "LAB.csv").read_text(encoding="utf-8").splitlines()
    date = lines[5].split(",")[2]
    lines[5] = lines[5].replace(date, date[:5] + "02-30", 1)
    (raw_copy / "LAB.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _fails(raw_copy, tmp_path, "LAB.csv: row 5, column LBDAT", "impossible date", "02-30")


def test_value_not_in_codelist_or_synonyms(raw_copy, tmp_path):
    lines = (raw_copy / "DM.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",男,", ",未知,").replace(",女,", ",未知,")
    (raw_copy / "DM.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _fails(raw_copy, tmp_path, "DM.csv: row 3, column SEX", "'未知'", "recode table 'sex'")


def test_duplicate_subject(raw_copy, tmp_path):
    lines = (raw_copy / "DM.csv").read_text(encoding="utf-8").splitlines()
    lines.append(lines[2])
    (raw_copy / "DM.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _fails(
        raw_copy, tmp_path, "DM.csv: row 18, column SUBJID", "duplicate record", "already on row 2"
    )


def test_ae_subject_absent_from_dm(raw_copy, tmp_path):
    lines = (raw_copy / "AE.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = "099" + lines[1][3:]
    (raw_copy / "AE.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _fails(raw_copy, tmp_path, "AE.csv: row 1, column SUBJID", "not in DM")


def test_unknown_visit(raw_copy, tmp_path):
    _edit(raw_copy / "PGA.csv", "治疗后6个月", "治疗后9个月")
    _fails(raw_copy, tmp_path, "PGA.csv", "column VISIT", "visit schedule")


def test_unreadable_encoding(raw_copy, tmp_path):
    data = (raw_copy / "EOS.csv").read_text(encoding="utf-8").encode("gb18030")
    (raw_copy / "EOS.csv").write_bytes(data)
    _fails(raw_copy, tmp_path, "EOS.csv", "not valid utf-8")


def test_missing_file(raw_copy, tmp_path):
    (raw_copy / "PGA.csv").unlink()
    _fails(raw_copy, tmp_path, "PGA.csv", "not found")


def test_run_writes_valid_define_for_sdtm_and_adam(bundled_run):
    from cdisc_umsc.core.xmlsafe import parse_xml
    from cdisc_umsc.read.define import read_define
    from cdisc_umsc.write.define import validate_define

    result, out = bundled_run
    for part, meta in (("sdtm", result.sdtm.meta), ("adam", result.adam_meta)):
        tree = parse_xml(out / part / "define.xml")
        assert validate_define(tree) == []
        back = read_define(out / part / "define.xml")
        assert set(back.datasets) == set(meta)
        for name, ds in meta.items():
            got = back.datasets[name]
            assert [v.name for v in got.variables] == ds.names
            assert [v.label for v in got.variables] == [v.label for v in ds.variables]
        assert (out / part / "define.html").stat().st_size > 1000
    text = (out / "adam" / "define.xml").read_text(encoding="utf-8")
    assert "PASI40 responder rate" in text and "PGA 0/1 responder rate" in text
    assert 'Name="ADaMIG"' in text and 'Version="1.3"' in text
    sdtm_text = (out / "sdtm" / "define.xml").read_text(encoding="utf-8")
    assert 'Version="2025-03-28"' in sdtm_text and "WC.LB.LBTESTCD.ALT" in sdtm_text
    # value-level descriptions name the unit of each test's results (original and standard)
    assert "Bilirubin (umol/L)" in sdtm_text and "Bilirubin (mg/dL)" in sdtm_text


def test_ae_coding_is_an_external_codelist(bundled_run):
    from cdisc_umsc.core.xmlsafe import parse_xml

    _result, out = bundled_run
    root = parse_xml(out / "sdtm" / "define.xml").getroot()
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
    ext = root.findall(".//odm:CodeList/odm:ExternalCodeList", ns)
    assert [(e.get("Dictionary"), e.get("Version")) for e in ext] == [
        ("ISO 3166-1 alpha-3", "2020"),
        ("MEDDRA", "SYNTHETIC 1.0"),
    ]
    oid = ext[1].getparent().get("OID")
    users = {
        i.get("Name")
        for i in root.findall(".//odm:ItemDef", ns)
        if i.find("odm:CodeListRef", ns) is not None
        and i.find("odm:CodeListRef", ns).get("CodeListOID") == oid
    }
    assert {"AEDECOD", "AEBODSYS", "AELLT", "AEHLT", "AEHLGT", "AESOC"} <= users


# ------------------------------------------------- released-software behaviour (issue cases)


def _tool(*args, cwd, env=None, umask=None):
    """The real command in a child process: exit code, stdout, stderr as the user sees them."""
    import os
    import subprocess
    import sys

    full = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cdisc_umsc.cli", *map(str, args)],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
    )


def _one_line_error(proc, text):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: "), proc.stderr
    assert text in proc.stderr, proc.stderr


def test_cp1252_console_gets_escapes_and_outputs_follow_the_umask(tmp_path):
    """A cp1252 console or log: the exclusion reason's CJK text is escaped, never fatal; every
    output is readable by colleagues under umask 022 (folders 0755, files 0644)."""
    import shutil
    import stat

    from tests.conftest import RAW, SPEC

    # a spec whose exclusion reason is printed: EC too leaves out the infusion not given
    spec = shutil.copytree(SPEC, tmp_path.parent / f"{tmp_path.name}-spec")
    ec = spec / "sdtm" / "ec.yaml"
    text = ec.read_text(encoding="utf-8")
    source = "  - form: INFUSION\n"
    assert source in text
    reason = "excluded_because: infusion not given (INFYN = 否); represented in EC with ECOCCUR = N"
    text = text.replace(source, f"{source}    where: {{INFYN: 是}}\n    {reason}\n")
    ec.write_text(text, encoding="utf-8")
    vs = spec / "sdtm" / "vs.yaml"
    text = vs.read_text(encoding="utf-8")
    assert "the row is in EC\n" in text
    vs.write_text(text.replace("the row is in EC\n", "the row is in EC (INFYN = 否)\n"), "utf-8")
    proc = _tool(
        "run", "--quiet", "--spec", spec, "--raw", RAW, cwd=tmp_path,
        env={"PYTHONIOENCODING": "cp1252"}, umask=0o022,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(r"1 excluded: .*\(INFYN = \\u5426\)", proc.stdout), proc.stdout
    assert "PASI40     Overall" + " " * 48 + "8/17   47.1%" in proc.stdout
    out = tmp_path / "out"
    modes = {
        p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in [out, *out.rglob("*")]
    }
    assert {m for p, m in modes.items() if (tmp_path / p).is_dir()} == {0o755}
    assert {m for p, m in modes.items() if (tmp_path / p).is_file()} == {0o644}
    assert {"out/index.html", "out/sdtm/define.xml", "out/sdtm/define.html"} <= set(modes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing left beside it


def test_run_out_dot_and_unwritable_places_are_one_line(tmp_path):
    _one_line_error(_tool("run", "--out", ".", cwd=tmp_path), "--out .: name a folder of its own")
    (tmp_path / "afile").write_text("keep")
    _one_line_error(
        _tool("run", "--out", tmp_path / "afile" / "out", cwd=tmp_path),
        f"{tmp_path / 'afile'}: exists and is not a folder",
    )
    _one_line_error(  # /proc refuses new folders, even to root
        _tool("run", "--out", "/proc/cdisc-umsc-out", cwd=tmp_path),
        "--out /proc/cdisc-umsc-out: cannot create a folder there",
    )
    assert (tmp_path / "afile").read_text() == "keep"


def test_foreign_files_inside_out_survive(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "adsl.sas").write_text("data adsl; run;\n")
    _one_line_error(
        _tool("run", "--out", precious, cwd=tmp_path),
        "holds files that are not a previous output of cdisc-umsc",
    )
    assert (precious / "adsl.sas").read_text() == "data adsl; run;\n"
    xpt = tmp_path / "some" / "file.xpt"
    xpt.parent.mkdir()
    xpt.write_bytes(b"not ours")
    _one_line_error(_tool("run", "--out", xpt, cwd=tmp_path), "exists and is not a folder")
    assert xpt.read_bytes() == b"not ours"
    assert sorted(p.name for p in xpt.parent.iterdir()) == ["file.xpt"]  # no .old-PID copy


def test_report_and_validate_into_a_missing_folder(bundled_run, tmp_path):
    adam, sdtm = bundled_run[1] / "adam", bundled_run[1] / "sdtm"
    for option in ("--csv", "--json"):
        target = tmp_path / "no" / "such" / f"t.{option[2:]}"
        _one_line_error(
            _tool("report", "--adam", adam, option, target, cwd=tmp_path),
            f"{target}: folder {target.parent} does not exist",
        )
    target = tmp_path / "no" / "such" / "dir" / "v.json"
    _one_line_error(
        _tool("validate", sdtm, "--out", target, cwd=tmp_path),
        f"{target}: folder {target.parent} does not exist",
    )
    assert not (tmp_path / "no").exists()  # nothing created silently


def test_report_files_are_written_atomically(bundled_run, tmp_path):
    res = CliRunner().invoke(
        main,
        ["report", "--adam", str(bundled_run[1] / "adam"), "--csv", str(tmp_path / "t.csv")],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "t.csv").read_text().startswith("endpoint,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_a_spec_of_its_own_needs_its_raw_folder(tmp_path):
    import shutil

    from tests.conftest import SPEC

    spec = shutil.copytree(SPEC, tmp_path / "mine")
    _one_line_error(
        _tool("run", "--spec", spec, "--out", tmp_path / "out", cwd=tmp_path),
        f"--spec {spec}: name its raw folder with --raw (without --raw only the bundled "
        "trial's own spec reads the bundled raw forms)",
    )
    _one_line_error(
        _tool("run", "--raw", tmp_path / "nope", "--out", tmp_path / "out", cwd=tmp_path),
        f"--raw {tmp_path / 'nope'}: does not exist; name the folder of the raw form files",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


@pytest.mark.parametrize(
    "code, status, printed", [(0, 0, ""), (3, 3, ""), (None, 0, ""), ("bad", 1, "bad\n")]
)
def test_the_command_ends_with_its_exit_code_at_once(monkeypatch, capsys, code, status, printed):
    """entry() flushes the output and ends the process with main()'s exit code, skipping the
    interpreter's tear-down; a message given as the code is printed as Python prints it."""
    import os

    from cdisc_umsc import cli

    class Ended(Exception):
        pass

    def fake_exit(value: int) -> None:
        raise Ended(value)

    def fake_main() -> None:
        print("written")
        raise SystemExit(code)

    monkeypatch.setattr(cli, "main", fake_main)
    monkeypatch.setattr(os, "_exit", fake_exit)
    with pytest.raises(Ended) as ended:
        cli.entry()
    assert ended.value.args == (status,)
    out, err = capsys.readouterr()
    assert (out, err) == ("written\n", printed)
