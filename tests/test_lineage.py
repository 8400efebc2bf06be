"""Lineage beside the datasets: every record back to raw rows or SDTM records, with spec lines."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from cdisc_umsc import lineage
from cdisc_umsc.core.errors import ReconciliationError
from cdisc_umsc.read.xpt import read_xpt
from tests.conftest import RAW, SPEC


def line_of(rel: str, needle: str) -> int:
    """Line number of the first line of a bundled spec file containing ``needle``."""
    lines = (SPEC / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, start=1) if needle in text)


def _edges(out, dataset):
    return lineage.read_records(out, dataset)


def test_every_record_of_every_dataset_has_lineage(bundled_run):
    result, out = bundled_run
    datasets = {
        **{f"sdtm/{k}": v for k, v in result.sdtm.data.items()},
        **{f"adam/{k}": v for k, v in result.adam.items()},
    }
    files = sorted(
        p.relative_to(out / "lineage").as_posix() for p in (out / "lineage").rglob("*.csv")
    )
    assert files == sorted(
        [f"{k.split('/')[0]}/{k.split('/')[1].lower()}.csv" for k in datasets] + ["variables.csv"]
    )
    for name, frame in datasets.items():
        edges = _edges(out, name)
        assert set(edges["record"]) == set(range(1, len(frame) + 1)), name
        assert set(edges["kind"]) <= {"raw", "record", "spec"}
        assert (edges["step"].str.match(r"^umsc/(sdtm|adam)/[a-z_]+\.yaml(:\d+)?: ")).all(), name


def test_lineage_is_not_in_the_datasets(bundled_run):
    result, out = bundled_run
    for part, meta in (("sdtm", result.sdtm.meta), ("adam", result.adam_meta)):
        for name, ds in meta.items():
            frame, _ = read_xpt(out / part / f"{name.lower()}.xpt")
            assert list(frame.columns) == ds.names
            assert not [c for c in frame.columns if c.startswith("_") or c in ("FORM", "ROW")]


def test_every_mapped_raw_row_appears_in_sdtm_lineage(bundled_run):
    result, out = bundled_run
    seen: dict[str, set[int]] = {}
    for name in result.sdtm.data:
        edges = _edges(out, f"sdtm/{name}")
        raw = edges[edges["kind"] == "raw"]
        for file, rows in raw.groupby("source")["row"]:
            seen.setdefault(file, set()).update(rows.tolist())
    for form in result.manifest["raw_forms"]:
        assert len(seen.get(form["file"], set())) == form["mapped"], form["file"]
    # every INFUSION row reaches SDTM: the one planned infusion not given only EC (not EX)
    infusion = pd.read_csv(RAW / "INFUSION.csv", dtype=str, keep_default_na=False)
    not_given = set((np.flatnonzero((infusion["INFYN"] == "否").to_numpy()) + 1).tolist())
    assert len(not_given) == 1
    assert seen["INFUSION.csv"] == set(range(1, 57))
    ex = _edges(out, "sdtm/EX")
    assert set(range(1, 57)) - set(ex.loc[ex["kind"] == "raw", "row"]) == not_given


def test_lab_records_carry_the_value_of_their_raw_row(bundled_run):
    result, out = bundled_run
    lb = result.sdtm.data["LB"]
    edges = _edges(out, "sdtm/LB")
    assert (edges["kind"] == "raw").all() and (edges["source"] == "LAB.csv").all()
    raw = pd.read_csv(RAW / "LAB.csv", dtype=str, keep_default_na=False)
    rows = raw.iloc[edges["row"].to_numpy() - 1]
    recs = lb.iloc[edges["record"].to_numpy() - 1]
    assert (rows["LBRES"].str.strip().to_numpy() == recs["LBORRES"].to_numpy()).all()
    assert (("-" + rows["SUBJID"]).to_numpy() == recs["USUBJID"].str[-4:].to_numpy()).all()


def test_pasi_total_traces_to_its_sixteen_items_and_four_raw_rows(bundled_run):
    result, out = bundled_run
    qs = result.sdtm.data["QS"]
    edges = _edges(out, "sdtm/QS")
    totals = np.flatnonzero((qs["QSTESTCD"] == "PASI0229").to_numpy()) + 1
    derived = edges[edges["record"].isin(totals)]
    assert (derived["kind"] == "record").all() and (derived["source"] == "sdtm/QS").all()
    assert derived.groupby("record").size().eq(16).all()
    assert set(derived["record"]) == set(totals)
    at = line_of("sdtm/qs.yaml", "- name: PASI total")
    assert derived["step"].str.contains(f"qs.yaml:{at}: derived record 'PASI total'").all()
    # recompute every total from the item records lineage points at
    items = qs.iloc[derived["row"].to_numpy() - 1].reset_index(drop=True)
    items["total"] = derived["record"].to_numpy()
    assert (
        items["USUBJID"].to_numpy() == qs["USUBJID"].to_numpy()[derived["record"].to_numpy() - 1]
    ).all()
    wide = items.pivot(index="total", columns="QSTESTCD", values="QSSTRESN")
    w = {
        r: wide[[f"PASI02{n:02d}" for n in range(4 * r - 3, 4 * r + 1)]].to_numpy()
        for r in range(1, 5)
    }
    recomputed = sum(
        f * (w[r][:, 0] + w[r][:, 1] + w[r][:, 2]) * w[r][:, 3]
        for r, f in zip(range(1, 5), (0.1, 0.2, 0.3, 0.4), strict=True)
    )
    expected = qs["QSSTRESN"].to_numpy()[wide.index.to_numpy() - 1]
    assert np.allclose(np.round(recomputed, 1), expected)
    # the items come from PASI.csv rows, one raw item (melted field) each
    item_edges = edges[edges["record"].isin(derived["row"])]
    assert (item_edges["source"] == "PASI.csv").all()
    assert set(item_edges["key"]) == {"SIGN=ERYTH", "SIGN=INDUR", "SIGN=DESQ", "SIGN=AREA"}


def test_adam_records_point_at_their_sdtm_record(bundled_run):
    result, out = bundled_run
    for name, dom, value in (("ADQS", "QS", "QSSTRESN"), ("ADLB", "LB", "LBSTRESN")):
        adam, sdtm = result.adam[name], result.sdtm.data[dom]
        edges = _edges(out, f"adam/{name}")
        coll = edges[edges["source"] == f"sdtm/{dom}"]
        collected = adam["SRCSEQ"].notna() & (
            adam["PARAMCD"].isin(["PASITOT", "PGA"]) | (name == "ADLB")
        )
        coll = coll[collected.to_numpy()[coll["record"] - 1]]
        assert len(coll) == int(collected.sum()) > 100
        a = adam.iloc[coll["record"].to_numpy() - 1]
        s = sdtm.iloc[coll["row"].to_numpy() - 1]
        assert (a["SRCSEQ"].to_numpy() == s[f"{dom}SEQ"].to_numpy()).all()
        assert (a["USUBJID"].to_numpy() == s["USUBJID"].to_numpy()).all()
        assert np.allclose(a["AVAL"].to_numpy(), s[value].to_numpy(), equal_nan=True)
    adqs = result.adam["ADQS"]
    edges = _edges(out, "adam/ADQS")
    within = edges[edges["source"] == "adam/ADQS"]
    # a responder record comes from the primary analysis record of its parameter
    resp = within[within["key"].str.endswith("ANL01FL=Y")]
    assert len(resp) == int(adqs["PARAMCD"].str.fullmatch(r"PASI\d\dR|PGA01R").sum())
    primary = adqs.iloc[resp["row"].to_numpy() - 1]
    assert (primary["ANL01FL"] == "Y").all()
    assert (
        primary["USUBJID"].to_numpy()
        == adqs.iloc[resp["record"].to_numpy() - 1]["USUBJID"].to_numpy()
    ).all()
    imputed = within[within["key"] == "ABLFL=Y"]
    assert (
        len(imputed)
        == int(((adqs["DTYPE"] == "BLOCF") & adqs["PARAMCD"].isin(["PASITOT", "PGA"])).sum())
        > 0
    )
    base = adqs.iloc[imputed["row"].to_numpy() - 1]
    assert (base["ABLFL"] == "Y").all()
    assert (
        adqs.iloc[imputed["record"].to_numpy() - 1]["AVAL"].to_numpy() == base["AVAL"].to_numpy()
    ).all()


def test_subject_level_lookups_and_supp_and_trial_design(bundled_run):
    _result, out = bundled_run
    dm = _edges(out, "sdtm/DM")
    first = dm[dm["record"] == 1]
    assert sorted(first["source"]) == ["DM.csv", "DOSEGRP.csv", "ENROL.csv", "EOS.csv"]
    at = line_of("sdtm/dm.yaml", "ARMCD:")
    assert (
        first.loc[first["source"] == "DOSEGRP.csv", "step"]
        .iloc[0]
        .startswith(f"umsc/sdtm/dm.yaml:{at}: ARMCD")
    )
    suppae = _edges(out, "sdtm/SUPPAE")
    assert suppae["key"].tolist() == ["AESEQ=1"] and suppae["source"].tolist() == ["sdtm/AE"]
    ts = _edges(out, "sdtm/TS")
    assert (ts["kind"] == "spec").all() and (ts["source"] == "umsc/sdtm/trial_design.yaml").all()


def test_variables_name_the_spec_line_per_source(bundled_run):
    _result, out = bundled_run
    table = lineage.read_variables(out)
    qs = table[table["dataset"] == "sdtm/QS"].set_index(["source", "variable"])["spec"]
    at = line_of("sdtm/qs.yaml", "QSTESTCD: {recode: pasi_testcd")
    assert qs[("PASI.csv", "QSTESTCD")].startswith(f"umsc/sdtm/qs.yaml:{at}: recode=pasi_testcd")
    at = line_of("sdtm/qs.yaml", "QSORRES: {field: PGA")
    assert qs[("PGA.csv", "QSORRES")].startswith(f"umsc/sdtm/qs.yaml:{at}: field=PGA")
    at = line_of("sdtm/qs.yaml", "formula:")
    assert qs[("derived", "QSSTRESN")].startswith(f"umsc/sdtm/qs.yaml:{at}: ")
    adqs = table[table["dataset"] == "adam/ADQS"].set_index("variable")["spec"]
    assert (
        adqs["AVAL"] == f"umsc/adam/adqs.yaml:{line_of('adam/adqs.yaml', 'aval:')}: aval=QSSTRESN"
    )


def test_manifest_lists_lineage_files_and_raw_inputs(bundled_run):
    _result, out = bundled_run
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "lineage/adam/adqs.csv" in manifest["files"]
    for rel, digest in manifest["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest
    for form in manifest["raw_forms"]:
        assert form["sha256"] == hashlib.sha256((RAW / form["file"]).read_bytes()).hexdigest()
        assert form["read"] == form["mapped"] + form["excluded"]
    assert manifest["created"] == "2021-06-30T00:00:00"
    assert manifest["tool"]["version"] and len(manifest["spec"]["sha256"]) == 64


def test_missing_lineage_is_an_error():
    edges = lineage._edges(np.array([0]), ["S1"], "raw", "AE.csv", [3], "", "ae.yaml:1: x")
    with pytest.raises(ReconciliationError, match="sdtm/AE: record 2 has no lineage"):
        lineage._complete("sdtm/AE", 2, edges)
    dangling = lineage._edges(np.array([0]), ["S1"], "record", "sdtm/QS", [0], "QSSEQ=9", "x")
    with pytest.raises(ReconciliationError, match="source record sdtm/QS QSSEQ=9 does not exist"):
        lineage._complete("adam/ADQS", 1, dangling)
