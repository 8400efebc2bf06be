"""``cdisc-umsc trace``: the chain from an ADaM record back to raw CRF rows, with spec lines."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from cdisc_umsc.cli import main
from cdisc_umsc.commands.trace import Comparison, parse_where
from cdisc_umsc.core.errors import InputError
from tests.test_lineage import line_of

SUBJECT = "CSU-UMSC-PSO-01-001"


def _trace(out, *args):
    return CliRunner().invoke(main, ["trace", str(out), *args])


def test_parse_where():
    assert parse_where("USUBJID='A''B' and PARAMCD = \"PASITOT\" AND AVISITN=11") == [
        Comparison("USUBJID", "=", "A'B", None),
        Comparison("PARAMCD", "=", "PASITOT", None),
        Comparison("AVISITN", "=", "11", 11.0),
    ]
    assert parse_where("dtype != 'BLOCF'") == [Comparison("DTYPE", "!=", "BLOCF", None)]


@pytest.mark.parametrize(
    "expr, message",
    [
        ("__import__('os').system('true')", "cannot read \"('os').system('true'\" at character 11"),
        ("USUBJID='x' or PARAMCD='y'", "expected 'and' at character 13"),
        ("USUBJID=", "expected a quoted 'value' or a number at character 9"),
        # an unquoted value: the message points at it, not at the variable
        ("USUBJID=NU-001-001", "expected a quoted 'value' or a number at character 9"),
        ("=3", "expected a variable name at character 1"),
        ("AVAL 3", "expected = or != at character 6"),
        ("USUBJID='unterminated", "cannot read"),
        ("", "empty expression"),
        ("AVAL > 3", "cannot read ' > 3' at character 5"),
    ],
)
def test_where_is_parsed_never_evaluated(expr, message):
    with pytest.raises(InputError, match=re.escape(message)):
        parse_where(expr)


def test_trace_pasi_primary_record_to_raw_rows(bundled_run):
    result, out = bundled_run
    res = _trace(
        out,
        "adam/adqs.xpt",
        "--where",
        f"USUBJID='{SUBJECT}' and PARAMCD='PASITOT' and ANL01FL='Y'",
    )
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    adqs = result.adam["ADQS"]
    sel = (adqs["USUBJID"] == SUBJECT) & (adqs["PARAMCD"] == "PASITOT") & (adqs["ANL01FL"] == "Y")
    assert sel.sum() == 1
    aval = adqs.loc[sel, "AVAL"].iloc[0]
    assert lines[0].startswith(
        f"adam/ADQS record {int(sel.idxmax()) + 1}: USUBJID={SUBJECT} "
        "PARAMCD=PASITOT AVISIT=FOLLOW-UP MONTH 6"
    )
    assert f"AVAL={aval:g}" in lines[0]
    at = line_of("adam/adqs.yaml", "- {PARAMCD: PASITOT")
    assert f"made by umsc/adam/adqs.yaml:{at}: parameter PASITOT" in lines[1]
    assert re.search(r"^  sdtm/QS record \d+: .*QSTESTCD=PASI0229 .*QSDRVFL=Y", res.output, re.M)
    at = line_of("sdtm/qs.yaml", "- name: PASI total")
    assert f"made by umsc/sdtm/qs.yaml:{at}: derived record 'PASI total'" in res.output
    raw = re.findall(r"<- raw PASI\.csv row (\d+) \(SIGN=(\w+)\)", res.output)
    assert len(raw) == 16 and len({r for r, _s in raw}) == 4
    assert {s for _r, s in raw} == {"ERYTH", "INDUR", "DESQ", "AREA"}
    # spec lines for every step: ADaM, the derived record, the PASI source, the domain
    at = line_of("adam/adqs.yaml", "aval:")
    assert f"  AVAL      umsc/adam/adqs.yaml:{at}: aval=QSSTRESN" in lines
    assert "sdtm/QS (records from PASI.csv):" in lines
    at = line_of("sdtm/qs.yaml", "QSTESTCD: {recode: pasi_testcd")
    assert any(
        line.startswith(f"  QSTESTCD  umsc/sdtm/qs.yaml:{at}: recode=pasi_testcd") for line in lines
    )
    assert "sdtm/QS (records from derived):" in lines


def test_trace_imputed_record_goes_through_baseline(bundled_run):
    _result, out = bundled_run
    res = _trace(out, "ADQS", "--where", "DTYPE='BLOCF' and PARAMCD='PASITOT'")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = line_of("adam/adqs.yaml", "primary:")
    assert f"made by umsc/adam/adqs.yaml:{at}: imputed record, DTYPE=BLOCF" in lines[1]
    assert re.match(r"^  adam/ADQS record \d+: .*PARAMCD=PASITOT .*ABLFL=Y", lines[2])
    assert len(re.findall("<- raw PASI.csv row", res.output)) == 16
    res = _trace(out, "ADQS", "--where", "DTYPE='BLOCF'", "--limit", "1")
    assert res.exit_code == 0, res.output
    assert re.search(r"^\((\d+) more matching records not shown; use --limit\)$", res.output, re.M)


def test_trace_lab_and_supp_records(bundled_run):
    _result, out = bundled_run
    res = _trace(out, "sdtm/lb.xpt", "--where", f"USUBJID='{SUBJECT}' and LBSEQ=1")
    assert res.exit_code == 0, res.output
    assert re.search(r"<- raw LAB\.csv row \d+$", res.output, re.M)
    res = _trace(out, "suppae", "--where", "QNAM='AETERM1'")
    assert res.exit_code == 0, res.output
    assert "sdtm/AE record 7" in res.output and "<- raw AE.csv row 7" in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["adqs", "--where", "NOPE='x'"], "--where: adam/ADQS has no variable NOPE"),
        (["adqs", "--where", "USUBJID='nobody'"], "adam/ADQS: no record matches"),
        (["adqs", "--where", "AVAL='high'"], "adam/ADQS.AVAL is numeric"),
        (["adxx", "--where", "A='b'"], "no dataset adxx with lineage"),
    ],
)
def test_trace_errors_are_one_line(bundled_run, args, message):
    _result, out = bundled_run
    res = _trace(out, *args)
    assert res.exit_code == 2
    assert isinstance(res.exception, SystemExit)
    assert res.output.count("\n") == 1 and message in res.output


def test_trace_needs_lineage(tmp_path):
    (tmp_path / "adam").mkdir()
    res = _trace(tmp_path, "adqs", "--where", "A='b'")
    assert res.exit_code == 2 and "no dataset adqs with lineage" in res.output
