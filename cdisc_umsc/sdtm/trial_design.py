"""Trial design domains (SDTMIG 3.4 chapter 7) and subject elements, from trial_design.yaml.

Each builder also says what define.xml records of its variables (Define-XML 2.1 section
5.3.11): the planned design is Protocol, codes and names the sponsor assigns are Assigned, and
what is computed (sequence numbers, study days, a subject's elements) is Derived, with its
method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdisc_umsc.core import iso8601
from cdisc_umsc.core.errors import InputError, StandardsError
from cdisc_umsc.metadata.model import Codelist, ValueLevel
from cdisc_umsc.metadata.spec import DomainSpec
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.sdtm.algorithms import method_text
from cdisc_umsc.sdtm.context import Build, Context
from cdisc_umsc.sdtm.describe import describe_value
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


def _protocol(b: Build, **other: dict) -> Build:
    """Every variable of a planned-design dataset is Protocol, DOMAIN is Assigned, unless
    ``other`` describes it."""
    for var in b.out.columns:
        b.described[var] = {"origin": "Protocol"}
    b.described["DOMAIN"] = {"origin": "Assigned"}
    b.described.update(other)
    return b


def _study_day(dtc: str, var: str) -> dict:
    """As the study_day algorithm describes it (one method text for every study day)."""
    text = method_text("study_day", {"study_day": dtc}, var)
    return {"origin": "Derived", "method": text}


def trial_elements(ctx: Context, spec: SpecMap) -> Build:
    """TE: one record per planned element."""
    return _protocol(
        _build(
            ctx,
            "TE",
            spec,
            _frame([{k: _literal(v) for k, v in r.items()} for r in spec["records"]]),
        )
    )


def _arm_elements(spec: SpecMap) -> list[tuple[str, SpecMap]]:
    """(ARMCD, element row) pairs: ``arms:`` as a mapping gives each arm its own elements
    (and branches); ``arms:`` as a list runs every arm through the same ``elements:``."""
    arms = spec.require("arms")
    if isinstance(arms, SpecMap):
        if "elements" in spec:
            raise spec.error("elements", "give elements per arm under arms:, or arms: as a list")
        pairs = []
        for arm, rows in arms.items():
            if not isinstance(rows, list) or not rows:
                raise arms.error(arm, f"arm {arm}: expected a list of its elements")
            pairs += [(str(arm), el) for el in rows]
        return pairs
    if not isinstance(arms, list) or not arms:
        raise spec.error("arms", "arms: is a list of ARMCD, or a mapping of ARMCD to elements")
    return [(str(arm), el) for arm in arms for el in spec.require("elements")]


def trial_arms(ctx: Context, spec: SpecMap) -> Build:
    """TA (SDTMIG 3.4 section 7.2.1): each arm's elements in order, with its branches and
    transitions; ARM decoded from the ARMCD codelist."""
    armcd = ctx.codelist("ARMCD")
    decode = {t.value: t.decode for t in armcd.terms} if isinstance(armcd, Codelist) else {}
    te = dict(zip(ctx.builds["TE"].out["ETCD"], ctx.builds["TE"].out["ELEMENT"], strict=True))
    rows = []
    for arm, el in _arm_elements(spec):
        if not isinstance(el, SpecMap) or "ETCD" not in el or "TAETORD" not in el:
            raise spec.error("arms", f"arm {arm}: each element needs TAETORD and ETCD")
        if str(el["ETCD"]) not in te:
            raise el.error("ETCD", f"arm {arm}: element {el['ETCD']} is not a TE record")
        row: dict[str, object] = {"ARMCD": arm, "ARM": decode.get(arm, arm)}
        row.update({k: _literal(v) for k, v in el.items()})
        row["TAETORD"] = float(el["TAETORD"])
        row["ELEMENT"] = te[str(el["ETCD"])]
        rows.append(row)
    return _protocol(_build(ctx, "TA", spec, _frame(rows)))


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
    return _protocol(_build(ctx, "TV", spec, _frame(rows)))


def trial_inclusion(ctx: Context, spec: SpecMap) -> Build:
    """TI: inclusion/exclusion criteria."""
    return _protocol(
        _build(
            ctx,
            "TI",
            spec,
            _frame([{k: _literal(v) for k, v in r.items()} for r in spec["records"]]),
        )
    )


def _first_present(dm: pd.DataFrame, names: object, where: str) -> np.ndarray:
    """The first non-blank of one or more DM date variables, per subject."""
    names = [str(n) for n in (names if isinstance(names, list) else [names])]
    for n in names:
        if n not in dm.columns:
            raise InputError(f"{where}: DM has no variable {n}")
    out = dm[names[0]].astype(object).fillna("")
    for n in names[1:]:
        out = out.where(out != "", dm[n].astype(object).fillna(""))
    return out.to_numpy()


def subject_elements(ctx: Context, spec: SpecMap) -> Build:
    """SE (SDTMIG 3.4 section 5.3): each subject's elements between DM reference dates. An
    element names its ETCD (every subject), or TAETORD: the element at that place in the TA
    of the subject's arm (``arm:``, default ACTARMCD), so each arm gets its own elements."""
    dm = ctx.builds["DM"].out
    te = ctx.builds["TE"].out.set_index("ETCD")["ELEMENT"]
    ta = ctx.builds["TA"].out
    arm_var = str(spec.get("arm", "ACTARMCD"))
    by_place = ta.set_index(["ARMCD", "TAETORD"])["ETCD"]
    by_arm = ta.drop_duplicates(["ARMCD", "ETCD"]).set_index(["ARMCD", "ETCD"])
    first = ta.drop_duplicates("ETCD").set_index("ETCD")
    parts = []
    for order, el in enumerate(spec.require("elements"), start=1):
        where = el.where() if isinstance(el, SpecMap) else spec.where("elements")
        if not isinstance(el, SpecMap) or ("ETCD" in el) == ("TAETORD" in el):
            raise InputError(f"{where}: an SE element gives ETCD or TAETORD (one of them)")
        for key in ("start", "end"):
            if key not in el:
                raise InputError(f"{where}: an SE element needs {key}: (DM date variable)")
        if "ETCD" in el:
            if str(el["ETCD"]) not in te.index:
                raise InputError(f"{where}: element {el['ETCD']} is not a TE record")
            etcd = pd.Series(str(el["ETCD"]), index=dm.index, dtype=object)
        else:
            if arm_var not in dm.columns:
                raise InputError(f"{spec.where('arm')}: DM has no variable {arm_var}")
            keys = pd.MultiIndex.from_arrays(
                [dm[arm_var].astype(str), np.full(len(dm), float(el["TAETORD"]))]
            )
            etcd = pd.Series(by_place.reindex(keys).to_numpy(), index=dm.index)
        part = pd.DataFrame(
            {
                "USUBJID": dm["USUBJID"].to_numpy(),
                "ETCD": etcd.to_numpy(),
                "SESTDTC": _first_present(dm, el["start"], where),
                "SEENDTC": _first_present(dm, el["end"], where),
                "_arm": dm[arm_var].astype(str).to_numpy() if arm_var in dm else "",
                "_order": order,
            }
        )
        parts.append(part[(part["SESTDTC"] != "") & part["ETCD"].notna()])
    out = pd.concat(parts, ignore_index=True).sort_values(["USUBJID", "_order"], kind="stable")
    own = pd.MultiIndex.from_arrays([out["_arm"], out["ETCD"]])
    for col in ("TAETORD", "EPOCH"):  # from the subject's arm in TA, else the element's first
        value = pd.Series(by_arm[col].reindex(own).to_numpy(), index=out.index)
        out[col] = value.where(value.notna(), out["ETCD"].map(first[col]))
    out["ELEMENT"] = out["ETCD"].map(te)
    out["TAETORD"] = out["TAETORD"].astype("float64")
    cols = ["USUBJID", "ETCD", "ELEMENT", "TAETORD", "EPOCH", "SESTDTC", "SEENDTC"]
    out = out[cols].reset_index(drop=True)
    b = _build(ctx, "SE", spec, out)
    b.out["SESEQ"] = (b.out.groupby("USUBJID").cumcount() + 1).astype("float64")
    rfst = b.out["USUBJID"].map(dm.set_index("USUBJID")["RFSTDTC"]).fillna("")
    b.out["SESTDY"] = iso8601.study_day(b.out["SESTDTC"], rfst)
    b.out["SEENDY"] = iso8601.study_day(b.out["SEENDTC"], rfst)
    _describe_elements(ctx, b, spec)
    return b


def _element_words(el: SpecMap, arm_var: str) -> str:
    """An SE element as the reviewer reads it: its code, or its place in the subject's arm."""
    if "ETCD" in el:
        return str(el["ETCD"])
    return f"the element at TAETORD {el['TAETORD']} of the subject's arm ({arm_var})"


def _dates_words(names: object) -> str:
    """DM date variables, the first not blank of a list."""
    if isinstance(names, list):
        return "the first not blank of " + ", ".join(f"DM.{n}" for n in names)
    return f"DM.{names}"


def _describe_elements(ctx: Context, b: Build, spec: SpecMap) -> None:
    arm_var = str(spec.get("arm", "ACTARMCD"))
    elements = [
        (_element_words(e, arm_var), _dates_words(e["start"]), _dates_words(e["end"]))
        for e in spec["elements"]
    ]
    starts = "; ".join(f"{start} for {etcd}" for etcd, start, _ in elements)
    ends = "; ".join(f"{end} for {etcd}" for etcd, _, end in elements)
    dm = ctx.builds["DM"].spec.variables
    b.described.update(
        {
            "STUDYID": {"origin": "Assigned"},
            "DOMAIN": {"origin": "Assigned"},
            "ETCD": {
                "origin": "Derived",
                "method": (
                    "Code of each planned element the subject entered, in the order "
                    f"{', '.join(e for e, _, _ in elements)}; an element is entered when its "
                    "start date (SESTDTC) is known"
                ),
            },
            "ELEMENT": {"origin": "Derived", "method": "TE.ELEMENT of the element code (ETCD)"},
            "TAETORD": {"origin": "Derived", "method": "TA.TAETORD of the element code (ETCD)"},
            "EPOCH": {"origin": "Derived", "method": "TA.EPOCH of the element code (ETCD)"},
            "SESTDTC": {"origin": "Derived", "method": f"Start of the element: {starts}"},
            "SEENDTC": {
                "origin": "Derived",
                "method": f"End of the element: {ends}; blank when that date is blank",
            },
            "SESEQ": {
                "origin": "Derived",
                "method": "Sequence number 1, 2, ... of the subject's elements in planned order",
            },
            "SESTDY": _study_day("SESTDTC", "SESTDY"),
            "SEENDY": _study_day("SEENDTC", "SEENDY"),
        }
    )
    if "USUBJID" in dm:  # the subject's DM identifier, described as DM describes it
        b.described["USUBJID"] = {"origin": "Derived", "from_dm": "USUBJID"}


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
    if tsparm is None or names is None:
        missing = "TSPARMCD" if tsparm is None else "TSPARM"
        raise StandardsError(f"SDTM CT {ctx.study.ct_version} has no codelist {missing!r}")
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
    b = _protocol(
        _build(ctx, "TS", spec, out),
        TSSEQ={
            "origin": "Derived",
            "method": (
                "Sequence number 1, 2, ... of the records of each TSPARMCD, in the order "
                "the trial design lists them"
            ),
        },
        **dict.fromkeys(
            ("TSPARM", "TSVALCD", "TSVCDREF", "TSVCDVER", "TSGRPID", "TSVALNF"),
            {"origin": "Assigned"},
        ),
    )
    for r in spec["records"]:
        value = r.get("TSVAL")
        if isinstance(value, SpecMap):
            origin, method = describe_value(value, "TSVAL", ctx.study)
            if origin == "Derived":
                code = str(r["TSPARMCD"])
                b.values.append(
                    ValueLevel("TSVAL", code, by="", origin="Derived", method=method, pages=())
                )
    return b


BUILDERS = {"TE": trial_elements, "TA": trial_arms, "TV": trial_visits, "TI": trial_inclusion}
