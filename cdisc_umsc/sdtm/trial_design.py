"""Trial design domains (SDTMIG 3.4 chapter 7) and subject elements, from trial_design.yaml."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.spec import DomainSpec
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.sdtm.context import Build, Context
from cdisc_umsc.sdtm.evaluate import apply


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if frame[col].dtype != object:
            continue
        frame[col] = frame[col].where(frame[col].notna(), "").astype(object)
    return frame


def _build(ctx: Context, name: str, spec: SpecMap, out: pd.DataFrame) -> Build:
    out.insert(0, "DOMAIN", name)
    out.insert(0, "STUDYID", str(ctx.setting("STUDYID")))
    dspec = DomainSpec(
        name, spec.file, tuple(str(k) for k in spec.get("keys", ())), (), SpecMap(), spec=spec
    )
    keys = [k for k in dspec.keys if k in out.columns]
    if keys:  # records in the order of the keys the spec declares (define.xml KeySequence)
        out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    return Build(dspec, pd.DataFrame(index=out.index), out)


def _literal(value) -> str:
    return "" if value is None else str(value)


def trial_elements(ctx: Context, spec: SpecMap) -> Build:
    """TE: one record per planned element."""
    return _build(
        ctx, "TE", spec, _frame([{k: _literal(v) for k, v in r.items()} for r in spec["records"]])
    )


def trial_arms(ctx: Context, spec: SpecMap) -> Build:
    """TA: every arm through every element; ARM decoded from the ARMCD codelist."""
    armcd = ctx.codelist("ARMCD")
    decode = {t.value: t.decode for t in armcd.terms} if armcd is not None else {}
    te = dict(zip(ctx.builds["TE"].out["ETCD"], ctx.builds["TE"].out["ELEMENT"], strict=True))
    rows = []
    for arm in spec["arms"]:
        for el in spec["elements"]:
            row = {"ARMCD": str(arm), "ARM": decode.get(str(arm), str(arm))}
            row.update({k: _literal(v) for k, v in el.items()})
            row["TAETORD"] = float(el["TAETORD"])
            row["ELEMENT"] = te[str(el["ETCD"])]
            rows.append(row)
    return _build(ctx, "TA", spec, _frame(rows))


def trial_visits(ctx: Context, spec: SpecMap) -> Build:
    """TV: one record per planned visit, from the study's visit schedule."""
    rows = []
    for v in ctx.study.visits:
        # ARMCD null: the schedule is the same for every arm (SDTMIG 3.4 section 7.3.1)
        rows.append(
            {
                "VISITNUM": float(v["VISITNUM"]),
                "VISIT": str(v["VISIT"]),
                "VISITDY": float(v["VISITDY"]) if v.get("VISITDY") is not None else np.nan,
                "ARMCD": _literal(v.get("ARMCD")),
                "TVSTRL": _literal(v.get("TVSTRL")),
            }
        )
    return _build(ctx, "TV", spec, _frame(rows))


def trial_inclusion(ctx: Context, spec: SpecMap) -> Build:
    """TI: inclusion/exclusion criteria."""
    return _build(
        ctx, "TI", spec, _frame([{k: _literal(v) for k, v in r.items()} for r in spec["records"]])
    )


def subject_elements(ctx: Context, spec: SpecMap) -> Build:
    """SE: each subject's elements between consecutive DM reference dates."""
    dm = ctx.builds["DM"].out
    te = ctx.builds["TE"].out.set_index("ETCD")["ELEMENT"]
    ta = ctx.builds["TA"].out.drop_duplicates("ETCD").set_index("ETCD")
    parts = []
    for order, el in enumerate(spec["elements"], start=1):
        etcd = str(el["ETCD"])
        part = pd.DataFrame(
            {
                "USUBJID": dm["USUBJID"].to_numpy(),
                "ETCD": etcd,
                "ELEMENT": te[etcd],
                "TAETORD": float(ta.loc[etcd, "TAETORD"]),
                "EPOCH": ta.loc[etcd, "EPOCH"],
                "SESTDTC": dm[str(el["start"])].to_numpy(),
                "SEENDTC": dm[str(el["end"])].to_numpy(),
                "_order": order,
            }
        )
        parts.append(part[part["SESTDTC"] != ""])
    out = pd.concat(parts, ignore_index=True).sort_values(["USUBJID", "_order"], kind="stable")
    out = out.drop(columns="_order").reset_index(drop=True)
    b = _build(ctx, "SE", spec, out)
    b.out["SESEQ"] = (b.out.groupby("USUBJID").cumcount() + 1).astype("float64")
    rfst = b.out["USUBJID"].map(dm.set_index("USUBJID")["RFSTDTC"]).fillna("")
    b.out["SESTDY"] = iso8601.study_day(b.out["SESTDTC"], rfst)
    b.out["SEENDY"] = iso8601.study_day(b.out["SEENDTC"], rfst)
    return b


#: keys of one TS record in trial_design.yaml
TS_RECORD_KEYS = frozenset(
    {"TSPARMCD", "TSPARM", "TSVAL", "TSVALNF", "TSVALCD", "TSVCDREF", "TSVCDVER", "codelist"}
)
#: TSVCDREF of a value coded by CDISC Controlled Terminology (SDTMIG 3.4 section 7.6.1)
CDISC_CT = "CDISC CT"


def _coded(ctx: Context, r: SpecMap, code: str, value: str) -> dict[str, str]:
    """TSVALCD / TSVCDREF / TSVCDVER of a value from the CDISC codelist the record names:
    the term's NCI code, "CDISC CT" and the study's CT version (SDTMIG 3.4 section 7.6.1)."""
    cid = str(r["codelist"])
    cl = ctx.ct.codelist(cid)
    if cl is None:
        raise InputError(
            f"{r.where('codelist')}: TS {code}: '{cid}' is not a CDISC codelist of "
            f"SDTM CT {ctx.study.ct_version} (TSVALCD is the NCI code of a CDISC term)"
        )
    term = cl.lookup(value)
    if term is None:
        raise InputError(
            f"{r.where('TSVAL')}: TS {code}: '{value}' is not a term of codelist "
            f"{cl.submission_value} ({cl.code})"
        )
    return {"TSVALCD": term.code, "TSVCDREF": CDISC_CT, "TSVCDVER": ctx.study.ct_version}


def trial_summary(ctx: Context, spec: SpecMap) -> Build:
    """TS: parameters with literal, setting or data-derived values; TSVALNF when none exists.

    A record naming ``codelist:`` has a CDISC-coded value: TSVALCD is its term's NCI code,
    TSVCDREF "CDISC CT" and TSVCDVER the study's CT version; values coded by another
    dictionary (SNOMED, ISO 3166 ...) give TSVALCD, TSVCDREF and TSVCDVER as literals.
    """
    tsparm = ctx.ct.codelist("TSPARMCD")
    names = ctx.ct.codelist("TSPARM")
    by_code = {t.code: t.submission_value for t in names.terms.values()}
    rows = []
    for r in spec["records"]:
        r.only(TS_RECORD_KEYS, "a TS record")
        code = str(r["TSPARMCD"])
        term = tsparm.lookup(code)
        value = r.get("TSVAL")
        if isinstance(value, SpecMap):
            dummy = Build(
                DomainSpec("TS", spec.file, (), (), SpecMap()),
                pd.DataFrame(index=[0]),
                pd.DataFrame(index=[0]),
            )
            value = apply(ctx, dummy, value, "TSVAL").iloc[0]
        row = {
            "TSPARMCD": code,
            "TSPARM": by_code.get(term.code, code) if term else _literal(r.get("TSPARM")),
            "TSVAL": _literal(value),
            "TSVALNF": _literal(r.get("TSVALNF")),
            "TSVALCD": _literal(r.get("TSVALCD"))
            if not isinstance(r.get("TSVALCD"), SpecMap)
            else str(ctx.setting(r["TSVALCD"]["setting"])),
            "TSVCDREF": _literal(r.get("TSVCDREF")),
            "TSVCDVER": _literal(r.get("TSVCDVER")),
        }
        if "codelist" in r:
            given = sorted(k for k in ("TSVALCD", "TSVCDREF", "TSVCDVER") if k in r)
            if given:
                raise InputError(
                    f"{r.where(given[0])}: TS {code}: {given[0]} comes from codelist: "
                    "(give one or the other)"
                )
            if row["TSVAL"] != "":  # no value (TSVALNF): nothing to code
                row.update(_coded(ctx, r, code, row["TSVAL"]))
        rows.append(row)
    out = _frame(rows)
    out["TSSEQ"] = (out.groupby("TSPARMCD").cumcount() + 1).astype("float64")
    out["TSGRPID"] = ""
    return _build(ctx, "TS", spec, out)


BUILDERS = {"TE": trial_elements, "TA": trial_arms, "TV": trial_visits, "TI": trial_inclusion}
