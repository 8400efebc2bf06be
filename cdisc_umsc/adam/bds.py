"""A BDS dataset (ADaMIG 1.3 section 3.3) from one SDTM findings domain, as the spec declares:
parameters, AVAL, ADT (imputed if asked), analysis visits (copied, mapped or windowed), ADY,
baseline, change, reference ranges, on-treatment flag, the primary-analysis record (ANL01FL,
imputed when missing), endpoint criteria, copied records and responder parameters.

Only subjects of ADSL are kept (ADaMIG 1.3 section 3.2: ADSL is the subject-level reference).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from cdisc_umsc.adam import dates, flags, params, ranges, visits
from cdisc_umsc.adam import derive as D
from cdisc_umsc.core.conditions import Condition, FrameSource, match, parse_condition
from cdisc_umsc.core.errors import InputError, located
from cdisc_umsc.core.values import as_text
from cdisc_umsc.metadata.specfile import SpecMap

#: Flags of one record (baseline, analysis record), not of its values.
RECORD_FLAG = re.compile(r"ABLFL|ANL[0-9]{2}FL")
BY = ["USUBJID", "PARAMCD"]


def _parameters(spec: SpecMap, src: FrameSource) -> list[dict]:
    """The declared parameters; ``per_test`` declares one parameter per distinct test code."""
    declared = spec["parameters"]
    if isinstance(declared, list):
        return list(declared)
    test = str(declared["per_test"])
    at = np.flatnonzero(_match(src, declared.get("where")))
    at = at[~src.frame[test].take(at).duplicated().to_numpy()]  # each test's first record
    first = src.frame.take(at).sort_values(test)
    template = str(declared["PARAM"])
    numbers = declared.get("PARAMN") or {}
    out = []
    for record in first.to_dict("records"):  # one per parameter, not per data row
        prm = {
            "PARAMCD": record[test],
            "PARAM": template.format(**{str(k): v for k, v in record.items()}),
            "where": {**(declared.get("where") or {}), test: record[test]},
            "decimals": int(declared.get("decimals", 6)),
        }
        if record[test] in numbers:
            prm["PARAMN"] = numbers[record[test]]
        out.append(prm)
    return out


def _match(source: FrameSource, cond: object) -> np.ndarray:
    """The records of ``source`` meeting a spec condition (as ``match`` finds them)."""
    parsed = cond if isinstance(cond, Condition) else parse_condition(cond, source.what)
    return parsed.evaluate(source).to_numpy(dtype=bool)


def _part_columns(spec: SpecMap, src_name: str) -> list[str]:
    """The source variables a parameter's records are built from (see ``_part``)."""
    adt = spec["adt"]
    av = spec.get("avisit") or {}
    rng = spec.get("ranges") or {}
    names = [
        "STUDYID",
        "USUBJID",
        spec["aval"],
        adt if isinstance(adt, str) else adt.get("date"),
        spec.get("adtm"),
        f"{src_name}SEQ",
        av.get("map"),
        av.get("AVISIT"),
        av.get("AVISITN"),
        spec.get("ady"),
        *(spec.get("carry") or {}).values(),
        *(rng[limit] for limit in ("A1LO", "A1HI") if limit in rng),
    ]
    return [str(n) for n in dict.fromkeys(names) if n]


def _rows_of(values: pd.Series) -> dict[object, np.ndarray]:
    """The positions of the records of each distinct value, in record order (missing
    values have none)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    return {u: order[starts[k] : starts[k + 1]] for k, u in enumerate(uniques)}


def _adt(spec: SpecMap, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    adt = spec["adt"]
    if isinstance(adt, str):
        return {"ADT": D.compute_dt(rows[adt]).to_numpy()}
    imp = adt.get("impute") or {}
    with located(f"{adt.where()}: ADT"):
        value, dtf = dates.compute_dt_imputed(
            rows[str(adt["date"])], str(imp.get("highest", "n")), str(imp.get("rule", "first"))
        )
    out = {"ADT": value.to_numpy()}
    if imp.get("flag", "ADTF"):
        out[str(imp.get("flag", "ADTF"))] = dtf.to_numpy()
    return out


def _adtm(spec: SpecMap, rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """ADTM and ATMF from ``adtm:`` (an ISO 8601 variable): only records with a collected
    hour and minute get a date-time (missing seconds are 00, ATMF = S); the others none."""
    if not spec.get("adtm"):
        return {}
    with located(f"{spec.where('adtm')}: ADTM"):
        value, _dtf, tmf = dates.compute_dtm_imputed(rows[str(spec["adtm"])])
    timed = tmf.isin(["", "S"]) & value.notna()
    return {
        "ADTM": value.where(timed).to_numpy(),
        "ATMF": tmf.where(timed, "").to_numpy(dtype=object),
    }


def _part(
    spec: SpecMap,
    prm: Mapping,
    rows: pd.DataFrame,
    src_name: str,
    adt: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The records of one parameter; ``adt``: its ADT when worked out beforehand."""
    part = pd.DataFrame(
        {
            "STUDYID": rows["STUDYID"].to_numpy(),
            "USUBJID": rows["USUBJID"].to_numpy(),
            "PARAMCD": str(prm["PARAMCD"]),
            "PARAM": str(prm["PARAM"]),
            "AVAL": rows[str(spec["aval"])].to_numpy(dtype="float64"),
            **(_adt(spec, rows) if adt is None else adt),
            **_adtm(spec, rows),
            "SRCDOM": src_name,
            "SRCVAR": str(spec["aval"]),
            "SRCSEQ": rows[f"{src_name}SEQ"].to_numpy(dtype="float64"),
        }
    )
    if "PARAMN" in prm:
        part["PARAMN"] = float(prm["PARAMN"])
    av = spec.get("avisit") or {}
    if "map" in av:
        table = {str(k): tuple(v) for k, v in av["values"].items()}
        mapped = visits.compute_avisit_map(
            rows, str(av["map"]), table, str(av.get("unmapped") or "")
        )
        part["AVISIT"], part["AVISITN"] = mapped["AVISIT"].to_numpy(), mapped["AVISITN"].to_numpy()
    elif "AVISIT" in av:
        part["AVISIT"] = rows[str(av["AVISIT"])].to_numpy()
        part["AVISITN"] = rows[str(av["AVISITN"])].to_numpy(dtype="float64")
    if spec.get("ady"):  # the spec names a source study day instead of ADT - TRTSDT
        part["ADY"] = rows[str(spec["ady"])].to_numpy(dtype="float64")
    carry = dict(spec.get("carry") or {})
    rng = spec.get("ranges") or {}
    for limit in ("A1LO", "A1HI"):
        if limit in rng:
            carry[limit] = rng[limit]
    for target, source in carry.items():
        part[str(target)] = rows[str(source)].to_numpy()
    return part


def _baseline(spec: SpecMap, bds: pd.DataFrame) -> pd.Series:
    """ABLFL by the spec's rule: ``where:`` records, else the last non-missing value on or
    before TRTSDT (same date: the later ``order`` value, then the later record)."""
    rule: SpecMap = spec.get("baseline") or SpecMap()
    if "where" in rule:
        cand = match(bds, rule["where"], f"{rule.where('where')}: where") & bds["AVAL"].notna()
        frame = bds[BY].copy()
        frame["_pos"] = np.arange(len(bds))
        last = frame[cand.to_numpy()].groupby(BY, sort=False)["_pos"].last()
        flag = np.full(len(bds), "", dtype=object)
        flag[last.to_numpy()] = "Y"
        return pd.Series(flag, index=bds.index, dtype=object)
    order = [str(v) for v in rule.get("order", ["AVISITN"] if "AVISITN" in bds else [])]
    reference = str(rule.get("reference", "TRTSDT"))
    late = None
    if reference == "TRTSDT":  # a record timed at or after the first dose is not baseline
        timed = flags.compute_timed(bds, "ADTM", "ATMF") & flags.compute_timed(
            bds, "TRTSDTM", "TRTSTMF"
        )
        late = timed & (bds["ADTM"] >= bds["TRTSDTM"]) if timed.any() else None
    return D.compute_ablfl(bds, BY, "AVAL", "ADT", reference, order=order, exclude=late)


def _post(spec: SpecMap, bds: pd.DataFrame) -> pd.Series:
    """Records that get CHG/PCHG/SHIFT: after the reference date (default), on or after the
    baseline record's date (``after_baseline``) or every record but the baseline one
    (``not_baseline``); never the baseline record itself."""
    how = str((spec.get("change") or {}).get("post", "after_reference"))
    not_base = bds["ABLFL"] != "Y"
    if how == "after_reference":
        return (bds["ADT"] > bds["TRTSDT"]).fillna(False) & not_base
    if how == "not_baseline":
        return bds["BASE"].notna() & not_base
    if how == "after_baseline":
        base_dt = D.compute_base(bds, BY, "ADT")
        return (bds["ADT"] >= base_dt).fillna(False) & not_base
    raise InputError(
        f"{spec.where('change')}: change.post must be after_reference, "
        f"after_baseline or not_baseline, not {how!r}"
    )


def _check_params(spec: SpecMap, source: FrameSource) -> None:
    """Recompute declared totals from their items and stop if the recorded total differs."""
    src = source.frame
    for chk in spec.get("checks") or []:
        by = [str(v) for v in chk["by"]]
        code, value = str(chk["code"]), str(chk.get("value", spec["aval"]))
        read = [c for c in dict.fromkeys([*by, code, value]) if c in src.columns]
        items = src[read][_match(source, chk.get("where"))]  # the variables the formula reads
        with located(chk.where("formula")):
            computed = params.derive_param_computed(
                items, by, code, value, str(chk["formula"]), int(chk.get("decimals", 6))
            )
        total = src[[*by, value]][_match(source, chk["total"])].rename(columns={value: "AVAL"})
        bad = params.derive_param_check(computed, total, by, float(chk.get("tolerance", 0)))
        if len(bad):
            row = bad.iloc[0]
            keys = ", ".join(f"{k}={row[k]}" for k in by)
            raise InputError(
                f"{chk.where()}: {spec['dataset']}: recomputed total {row['computed']}"
                f" differs from the recorded {row['collected']} ({keys}); "
                f"{len(bad)} record(s) disagree"
            )


def _criteria(spec: SpecMap, bds: pd.DataFrame, post: pd.Series, decimals: dict) -> None:
    for paramcd, crits in (spec.get("criteria") or {}).items():
        sel = bds["PARAMCD"] == str(paramcd)
        for c in crits:
            n = int(c["CRIT"])
            if "improvement" in c:
                flag = D.compute_crit_improvement(
                    bds[sel], float(c["improvement"]), decimals[str(paramcd)]
                )
            else:
                flag = D.compute_crit_in(bds[sel], [float(x) for x in c["aval_in"]])
            apply = sel & post
            for col in (f"CRIT{n}", f"CRIT{n}FL"):
                if col not in bds:
                    bds[col] = ""
            bds.loc[apply, f"CRIT{n}"] = str(c["text"])
            bds.loc[apply, f"CRIT{n}FL"] = flag[apply[sel].to_numpy()].to_numpy()


#: Variables that describe the source parameter's value and so are blank on a parameter
#: derived from it (the derived value has no baseline, range or criteria of its own).
_NOT_INHERITED = (
    "BASE",
    "CHG",
    "PCHG",
    "A1LO",
    "A1HI",
    "R2A1LO",
    "R2A1HI",
    "BNRIND",
    "ABLFL",
    "ANRIND",
    "ONTRTFL",
)


def _relative_change(spec: SpecMap, bds: pd.DataFrame, d: SpecMap) -> pd.DataFrame:
    """A parameter per source parameter: the change from the previous ``select`` record
    relative to half the normal range, with its own ANRIND by fixed ``anrind`` limits."""
    kind = str(d.get("type", ""))
    if kind != "change_from_previous":
        raise InputError(
            f"{d.where('type')}: derived parameter type must be change_from_previous, not {kind!r}"
        )
    source = (
        bds[bds["PARAMCD"].isin([str(p) for p in d["of"]])]
        if "of" in d
        else bds[bds["DTYPE"] == ""]
    )
    select = match(source, d.get("select"), f"{d.where('select')}: select")
    order = [str(v) for v in d.get("order", ["ADT"])]
    value = params.compute_change_from_previous(
        source, BY, order, select, int(d["decimals"]) if "decimals" in d else None
    )
    baseline = (source["ABLFL"] == "Y").to_numpy()
    new = source.copy()
    new["AVAL"] = value.where(~baseline).to_numpy()
    for col in _NOT_INHERITED:
        if col in new:
            new[col] = np.nan if new[col].dtype.kind == "f" else ""
    for col in [c for c in new.columns if c.startswith(("CRIT", "SHIFT", "ANL"))]:
        new[col] = ""
    names = new[["PARAMCD", "PARAM"]].drop_duplicates("PARAMCD")
    param = {
        c: str(d["PARAM"]).format(PARAM=p, PARAMCD=c)  # one per parameter, not per row
        for c, p in zip(names["PARAMCD"], names["PARAM"], strict=True)
    }
    code = {c: str(d["PARAMCD"]).format(PARAMCD=c) for c in names["PARAMCD"]}
    new["PARAM"] = new["PARAMCD"].map(param).to_numpy()
    new["PARAMCD"] = new["PARAMCD"].map(code).to_numpy()
    ind = d.get("anrind")
    if ind is not None:
        limits = new.assign(_lo=float(ind["low"]), _hi=float(ind["high"]))
        new["ANRIND"] = ranges.compute_anrind(
            limits, "AVAL", "_lo", "_hi", terms=tuple(ind.get("terms", ranges.TERMS))
        )
    return new


def _check_names(spec: SpecMap, src: pd.DataFrame, src_name: str, adsl: pd.DataFrame) -> None:
    """The source variables and ADSL variables the spec names exist (one file:line error)."""
    name = str(spec["dataset"])
    adt = spec["adt"]
    dates = [adt] if isinstance(adt, str) else [adt.get("date")]
    for key, var in (("aval", spec["aval"]), ("adt", dates[0]), ("ady", spec.get("ady"))):
        if var is not None and str(var) not in src.columns:
            raise InputError(
                f"{spec.where(key)}: {name}: {key}: {var} is not a variable of {src_name}"
            )
    carried = [str(v) for v in spec["adsl"]]
    for var in carried:
        if var not in adsl.columns:
            raise InputError(
                f"{spec.where('adsl')}: {name}: adsl: ADSL has no variable {var} (ADSL has "
                f"{', '.join(adsl.columns)})"
            )
    need = {"TRTSDT": "the reference date of baseline and study days"}
    if spec.get("ontrt") is not None:
        need["TRTEDT"] = "the end of the on-treatment window"
    for var, why in need.items():
        if var not in carried:
            raise InputError(
                f"{spec.where('adsl')}: {name}: adsl: must carry {var} from ADSL ({why})"
            )


def build_bds(spec: SpecMap, sdtm: Mapping[str, pd.DataFrame], adsl: pd.DataFrame) -> pd.DataFrame:
    r"""Build a BDS dataset from a spec: parameters, AVAL, visits, baseline, change, flags.

    One record per selected ``source`` record of an ADSL subject and spec parameter, with
    ADT/ADY, AVISIT/AVISITN, ABLFL/BASE/CHG/PCHG and, as the spec asks, ranges, on-treatment
    and analysis flags, criteria, derived parameters and extra records; sorted by USUBJID,
    PARAMCD, AVISITN, ADT (missing first, as SAS sorts).

    Args:
        spec: the BDS spec (``cdisc_umsc.metadata.specfile.load_spec_file``).
        sdtm: SDTM datasets by domain name (the spec's ``source:``).
        adsl: the ADSL frame (STUDYID, USUBJID and the spec's ``adsl:`` variables).

    Returns:
        The BDS frame. A spec naming a variable the data lack raises InputError naming the
        spec file and line.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import pandas as pd
        >>> from cdisc_umsc.metadata.specfile import load_spec_file
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = Path(tmp.name) / "adlb.yaml"
        >>> _ = path.write_text(
        ...     "dataset: ADLB\nstructure: BDS\nlabel: Lab\nkeys: [USUBJID, PARAMCD, ADT]\n"
        ...     "source: LB\nadsl: [TRTSDT]\nparameters: {per_test: LBTESTCD, PARAM: '{LBTEST}'}\n"
        ...     "aval: LBSTRESN\nadt: {date: LBDTC}\navisit: {AVISIT: VISIT, AVISITN: VISITNUM}\n")
        >>> lb = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1"], "LBSEQ": [1.0, 2.0],
        ...                    "LBTESTCD": ["K", "K"], "LBTEST": ["Potassium", "Potassium"],
        ...                    "LBSTRESN": [4.0, 4.6], "LBDTC": ["2019-01-09", "2019-01-24"],
        ...                    "VISIT": ["WEEK 0", "WEEK 2"], "VISITNUM": [1.0, 2.0]})
        >>> adsl = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-1"], "TRTSDT": [21559.0]})
        >>> out = build_bds(load_spec_file(path), {"LB": lb}, adsl)
        >>> out[["PARAMCD", "AVISIT", "AVAL", "ADY", "ABLFL", "BASE", "CHG"]].values.tolist()
        [['K', 'WEEK 0', 4.0, -1.0, 'Y', 4.0, nan], ['K', 'WEEK 2', 4.6, 15.0, '', 4.0, 0.6]]
        >>> tmp.cleanup()
    """
    src_name = str(spec["source"])
    src = sdtm[src_name]
    _check_names(spec, src, src_name, adsl)
    with located():
        keep = match(src, spec.get("where"), f"{spec.where('where')}: where")
    src = src[(keep & src["USUBJID"].isin(adsl["USUBJID"])).to_numpy()]
    source = FrameSource(src)  # one source: each column's distinct values found once
    _check_params(spec, source)
    # the variables the records are built from, so that each parameter's selection copies
    # those and not the whole domain
    used = src[[c for c in _part_columns(spec, src_name) if c in src.columns]]
    # a plain date (no imputation, so no error naming a record) is converted once for the
    # domain (per distinct date) rather than once per parameter
    adt = spec["adt"]
    whole = {"ADT": D.compute_dt(used[adt]).to_numpy()} if isinstance(adt, str) else None
    parts, decimals = [], {}
    for prm in _parameters(spec, source):
        at = np.flatnonzero(_match(source, prm["where"]))
        mine = None if whole is None else {k: v[at] for k, v in whole.items()}
        parts.append(_part(spec, prm, used.take(at), src_name, mine))
        decimals[str(prm["PARAMCD"])] = int(prm.get("decimals", 0))
    if not parts:
        raise InputError(f"{spec.where('parameters')}: {spec['dataset']}: no parameters")
    bds = pd.concat(parts, ignore_index=True)
    bds = D.derive_vars_merged(bds, adsl, ["STUDYID", "USUBJID"], [str(v) for v in spec["adsl"]])
    if "ADY" not in bds:
        bds["ADY"] = D.compute_ady(bds["ADT"], bds["TRTSDT"])
    av = spec.get("avisit") or {}
    if "windows" in av:
        win = visits.compute_avisit_windows(bds, str(av.get("day", "ADY")), av["windows"])
        for col in win.columns:
            bds[col] = win[col].to_numpy()
        bds[str(av.get("flag", "ANL01FL"))] = visits.compute_anl_flag(
            bds, [*BY, "AVISITN"], str(av.get("rule", "closest")), str(av.get("day", "ADY"))
        )
    bds["ABLFL"] = _baseline(spec, bds)
    bds["BASE"] = D.compute_base(bds, BY)
    post = _post(spec, bds)
    rng = spec.get("ranges") or {}
    if rng:
        ind = rng.get("anrind") or {}
        bds["ANRIND"] = ranges.compute_anrind(
            bds,
            low_factor=float(ind.get("low_factor", 1)),
            high_factor=float(ind.get("high_factor", 1)),
            terms=tuple(ind.get("terms", ranges.TERMS)),
            missing=str(ind.get("missing", "")),
        )
        bds["BNRIND"] = D.compute_base(bds, BY, "ANRIND")
        if rng.get("shift"):
            bds[str(rng["shift"])] = ranges.compute_shift(bds, select=post)
        if rng.get("ratios", True):
            r2 = ranges.compute_r2a1(bds)
            bds["R2A1LO"], bds["R2A1HI"] = r2["R2A1LO"], r2["R2A1HI"]
    ontrt = spec.get("ontrt")
    if ontrt is not None:
        with located(f"{ontrt.where()}: ONTRTFL"):
            bds["ONTRTFL"] = flags.compute_ontrtfl(
                bds,
                end_window=int(ontrt.get("end_window", 0)),
                same_day=str(ontrt.get("same_day", "on_treatment")),
            )
    bds["DTYPE"] = ""
    primary = spec.get("primary")
    if primary is not None:
        visitn = float(primary["AVISITN"])
        _check_primary_visit(bds, primary, visitn)
        pop = adsl[adsl[str(primary["population"])] == "Y"]
        imputed = D.derive_param_imputed(
            bds, pop, BY, str(primary["AVISIT"]), visitn, str(primary["missing"])
        )
        bds = pd.concat([bds, imputed], ignore_index=True)
        post = pd.concat([post, pd.Series(True, index=range(len(imputed)))], ignore_index=True)
    bds["CHG"], bds["PCHG"] = np.nan, np.nan
    chg, pchg = np.full(len(bds), np.nan), np.full(len(bds), np.nan)
    values, by_param = bds[["AVAL", "BASE"]], _rows_of(bds["PARAMCD"])
    none = np.array([], dtype=np.intp)
    for dec in sorted(set(decimals.values())):  # per record: once for each precision
        at = np.concatenate([by_param.get(c, none) for c, d in decimals.items() if d == dec])
        chg[at] = D.compute_chg(values.iloc[at], post.iloc[at], dec).to_numpy()
        pchg[at] = D.compute_pchg(values.iloc[at], post.iloc[at], dec).to_numpy()
    bds["CHG"], bds["PCHG"] = chg, pchg
    if primary is not None:
        in_pop = bds["USUBJID"].isin(pop["USUBJID"])
        at_visit = (bds["AVISITN"] == visitn) & in_pop
        dup = bds[at_visit].duplicated(BY, keep="last")
        bds["ANL01FL"] = np.where(at_visit & ~dup.reindex(bds.index, fill_value=True), "Y", "")
    _criteria(spec, bds, post, decimals)
    derived = [_relative_change(spec, bds, d) for d in spec.get("derived_parameters") or []]
    if derived:
        bds = pd.concat([bds, *derived], ignore_index=True)
    extra = []
    for rec in spec.get("extra_records") or []:
        sel = match(bds, rec.get("where"), f"{rec.where()}: where")
        new = visits.derive_extreme_records(
            bds,
            BY,
            [str(v) for v in rec.get("order", ["ADT"])],
            sel,
            str(rec.get("pick", "last")),
            dict(rec["set"]),
        )
        # a copy stands for another visit: it is not its source's baseline or analysis
        # record (ADaMIG 1.3 3.3.8), so those flags start blank unless the spec sets them
        for record_flag in [c for c in new.columns if RECORD_FLAG.fullmatch(c)]:
            if record_flag not in rec["set"]:
                new[record_flag] = ""
        extra.append(new)
    for paramcd, crits in (spec.get("criteria") or {}).items():
        for c in crits:
            resp = c.get("responder")
            if resp is None or primary is None:
                continue
            sel = (bds["PARAMCD"] == str(paramcd)) & (bds.get("ANL01FL", "") == "Y")
            with located(f"{c.where()}"):
                extra.append(
                    params.derive_param_responder(
                        bds,
                        sel,
                        f"CRIT{int(c['CRIT'])}FL",
                        str(resp["PARAMCD"]),
                        str(resp["PARAM"]),
                    )
                )
    if extra:
        bds = pd.concat([bds, *extra], ignore_index=True)
        if "AVALC" in bds:
            bds["AVALC"] = bds["AVALC"].astype(object).fillna("")
    # AVISITN only where the spec maps visits (avisit: is optional)
    keys = [k for k in ("USUBJID", "PARAMCD", "AVISITN", "ADT") if k in bds.columns]
    # missing values sort first, as SAS orders them (the order validators and CORE expect)
    return bds.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)


def _check_primary_visit(bds: pd.DataFrame, primary: SpecMap, visitn: float) -> None:
    """The primary analysis visit is a visit of the records: a visit no record has would
    give every subject an imputed record there and the endpoint 0 responders, without a
    word; one whose AVISIT the records spell otherwise would put two names on one visit."""
    at = bds["AVISITN"] == visitn
    where = f"{primary.where()}: primary"
    visit = str(primary["AVISIT"])
    if not at.any():
        seen = bds[["AVISITN", "AVISIT"]].dropna().drop_duplicates()
        seen = seen.assign(AVISITN=as_text(seen["AVISITN"])).sort_values("AVISITN", key=_numeric)
        listed = ", ".join(f"{n} {v}" for n, v in seen.itertuples(index=False))
        raise InputError(
            f"{where}: no record is at AVISITN {visitn:g} ({visit}); the records' visits "
            f"(AVISITN AVISIT): {listed or 'none'}"
        )
    names = sorted(set(bds.loc[at, "AVISIT"].dropna().astype(str)) - {""})
    if names and visit not in names:
        raise InputError(
            f"{where}: the records at AVISITN {visitn:g} are {', '.join(names)}, not {visit}"
        )


def _numeric(values: pd.Series) -> pd.Series:
    """Sort key: visit numbers in number order (a number written as text too)."""
    return pd.to_numeric(values, errors="coerce")
