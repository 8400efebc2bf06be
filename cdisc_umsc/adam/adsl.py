"""ADSL (ADaMIG 1.3 section 3.2): one record per subject of the source (DM), with the
variables the spec declares, evaluated in the order written (a variable may use earlier ones).

Algorithms: ``copy``, ``date`` / ``datetime`` (with ``impute:`` and ``flag:``), ``flag``
(records in a domain, or ``when:`` on ADSL itself), ``categorize``, ``map``, ``duration``,
``aggregate`` (count, sum, min, max or mean of a domain's records per subject), ``bmi``,
``hardcode``. ``copy``, ``date`` and ``map`` read another domain per subject with ``from:``,
``where:``, ``order:`` and ``pick: first|last``; ``else:`` fills what the algorithm left blank.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cdisc_umsc.adam import dates
from cdisc_umsc.adam.derive import compute_bmi, copied, derive_var_merged_summary
from cdisc_umsc.core.conditions import match
from cdisc_umsc.core.errors import InputError, located
from cdisc_umsc.core.values import blank
from cdisc_umsc.metadata.specfile import SpecMap

ALGORITHMS = (
    "copy",
    "date",
    "datetime",
    "flag",
    "categorize",
    "map",
    "duration",
    "aggregate",
    "bmi",
    "hardcode",
)


def _per_subject(
    sdtm: Mapping[str, pd.DataFrame], p: SpecMap, column: str, subjects: pd.Series
) -> pd.Series:
    """``column`` of one record per subject of domain ``from`` (first or last in ``order``)."""
    dom = sdtm[str(p["from"])]
    rows = dom[match(dom, p.get("where"), f"{p.where()}: where")]
    order = [str(v) for v in p.get("order", [])]
    rows = rows.sort_values(["USUBJID", *order], kind="stable")
    pick = str(p.get("pick", "first"))
    if pick not in ("first", "last"):
        raise InputError(f"{p.where('pick')}: pick must be first or last, not {pick!r}")
    grouped = rows.groupby("USUBJID", sort=False)
    one = grouped.head(1) if pick == "first" else grouped.tail(1)
    values = one.set_index("USUBJID")[column]
    return subjects.map(values)


def _source(
    sdtm: Mapping[str, pd.DataFrame], dm: pd.DataFrame, p: SpecMap, key: str, out: pd.DataFrame
) -> pd.Series:
    column = str(p[key])
    if "from" in p:
        return pd.Series(_per_subject(sdtm, p, column, dm["USUBJID"]).to_numpy(), index=out.index)
    frame = out if column in out.columns else dm
    if column not in frame.columns:
        raise InputError(
            f"{p.where(key)}: no variable {column} among the ADSL variables derived so far "
            "nor in its source (give from: DOMAIN to read another domain)"
        )
    return pd.Series(frame[column].to_numpy(), index=out.index)


def _has_records(
    sdtm: Mapping[str, pd.DataFrame], cond: SpecMap, subjects: pd.Series
) -> np.ndarray:
    dom = sdtm[str(cond["has_records"])]
    rows = dom[match(dom, cond.get("where"), f"{cond.where()}: where")]
    return subjects.isin(set(rows["USUBJID"])).to_numpy()


def _impute(p: SpecMap) -> tuple[str, str]:
    imp = p.get("impute") or {}
    return str(imp.get("highest", "n")), str(imp.get("rule", "first"))


def _one(
    var: str, p: SpecMap, sdtm: Mapping[str, pd.DataFrame], dm: pd.DataFrame, out: pd.DataFrame
) -> dict[str, pd.Series]:
    """The column(s) one algorithm gives: the variable, and its imputation flags if asked."""
    idx = out.index
    if "copy" in p:
        return {var: _source(sdtm, dm, p, "copy", out)}
    if "date" in p or "datetime" in p:
        key = "date" if "date" in p else "datetime"
        text = _source(sdtm, dm, p, key, out)
        highest, rule = _impute(p)
        with located(f"{p.where(key)}: {var}"):
            if key == "date":
                value, dtf = dates.compute_dt_imputed(text, highest, rule)
                tmf = None
            else:
                value, dtf, tmf = dates.compute_dtm_imputed(text, highest, rule, rule)
        cols = {var: value}
        flags = p.get("flag") or {}
        if isinstance(flags, str):
            flags = {"date": flags}
        if flags.get("date"):
            cols[str(flags["date"])] = dtf
        if flags.get("time") and tmf is not None:
            cols[str(flags["time"])] = tmf
        return cols
    if "flag" in p:
        cond = p["flag"]
        if "has_records" in cond:
            ok = _has_records(sdtm, cond, dm["USUBJID"])
        else:
            frame = pd.concat([out, dm[[c for c in dm.columns if c not in out.columns]]], axis=1)
            ok = match(frame, cond.get("when"), f"{cond.where()}: when").to_numpy()
        for extra in p.get("and", []):
            ok = ok & (out[str(extra)] == "Y").to_numpy()
        return {var: pd.Series(np.where(ok, "Y", "N"), index=idx, dtype=object)}
    if "categorize" in p:
        values = (
            out[str(p["categorize"])]
            if str(p["categorize"]) in out
            else dm[str(p["categorize"])].set_axis(idx)
        )
        frame = pd.DataFrame({"v": values.to_numpy()}, index=idx)
        result = pd.Series("", index=idx, dtype=object)
        done = blank(values)
        for label, cond in p["groups"].items():  # first matching group wins
            hit = match(frame, {"v": cond}, f"{p.where('groups')}") & ~done if cond else ~done
            result[hit] = str(label)
            done |= hit
        return {var: result}
    if "map" in p:
        values = _source(sdtm, dm, p, "map", out)
        values = values.astype(object).where(values.notna(), "").astype(str)
        table = {str(k): v for k, v in p["values"].items()}
        unknown = sorted(set(values[values != ""]) - set(table))
        if unknown:
            raise InputError(f"{p.where('values')}: {var}: no value for {unknown[0]!r}")
        mapped = values.map(table)
        numeric = all(isinstance(v, int | float) for v in table.values())
        return {var: mapped.astype("float64") if numeric else mapped.fillna("").astype(object)}
    if "duration" in p:
        start, end = (str(v) for v in p["duration"])
        return {var: (out[end] - out[start] + 1).astype("float64")}
    if "aggregate" in p:
        dom = sdtm[str(p["from"])]
        rows = dom[match(dom, p.get("where"), f"{p.where()}: where")]
        of = str(p["of"]) if "of" in p else None
        if of is not None and of not in rows.columns:
            raise InputError(f"{p.where('of')}: {p['from']} has no variable {of}")
        frame = derive_var_merged_summary(
            dm[["USUBJID"]], rows, ["USUBJID"], "_agg", str(p["aggregate"]), of
        )
        return {var: pd.Series(frame["_agg"].to_numpy(), index=idx, dtype="float64")}
    if "bmi" in p:
        height, weight = (out[str(v)] for v in p["bmi"])
        return {var: pd.Series(compute_bmi(height, weight).to_numpy(), index=idx)}
    if "hardcode" in p:
        return {var: pd.Series(str(p["hardcode"]), index=idx, dtype=object)}
    raise InputError(
        f"{p.where()}: unknown ADSL derivation for {var} (expected one of: {', '.join(ALGORITHMS)})"
    )


def build_adsl(spec: SpecMap, sdtm: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    r"""Build ADSL: one record per DM subject meeting the spec's ``where:``, with its variables.

    The spec names the source (``source:``, default DM), the DM variables copied (``copy:``)
    and each derived variable (``variables:``; an ``else:`` fills what the first rule left
    blank). Text variables are blank, never null, for a subject without a record.

    Args:
        spec: the ADSL spec (``cdisc_umsc.metadata.specfile.load_spec_file``).
        sdtm: SDTM datasets by domain name (DM and every domain a derivation reads).

    Returns:
        The ADSL frame, in DM record order. A DM with two records for one subject, or an
        unknown derivation, raises InputError naming the spec file and line.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import pandas as pd
        >>> from cdisc_umsc.metadata.specfile import load_spec_file
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = Path(tmp.name) / "adsl.yaml"
        >>> _ = path.write_text(
        ...     "dataset: ADSL\nstructure: ADSL\nlabel: Subject-Level\n"
        ...     "keys: [STUDYID, USUBJID]\nwhere: {ARMCD: {not: Scrnfail}}\n"
        ...     "copy: [STUDYID, USUBJID, AGE]\n"
        ...     "variables:\n  SAFFL: {flag: {when: {AGE: {gt: 18}}}}\n")
        >>> dm = pd.DataFrame({"STUDYID": ["S"] * 3, "USUBJID": ["S-1", "S-2", "S-3"],
        ...                    "ARMCD": ["A", "Scrnfail", "B"], "AGE": [64.0, 40.0, 17.0]})
        >>> build_adsl(load_spec_file(path), {"DM": dm}).values.tolist()
        [['S', 'S-1', 64.0, 'Y'], ['S', 'S-3', 17.0, 'N']]
        >>> tmp.cleanup()
    """
    dm = sdtm[str(spec.get("source", "DM"))]
    with located():
        dm = dm[match(dm, spec.get("where"), f"{spec.where('where')}: where")]
    dm = dm.reset_index(drop=True)
    if dm["USUBJID"].duplicated().any():
        dup = dm.loc[dm["USUBJID"].duplicated(), "USUBJID"].iloc[0]
        raise InputError(f"{spec.where()}: ADSL source has more than one record for {dup}")
    out = dm[copied(spec, dm, str(spec.get("source", "DM")))].copy()
    for var, p in (spec.get("variables") or {}).items():
        with located(f"{p.where()}: {var}"):
            cols = _one(var, p, sdtm, dm, out)
            alt = p.get("else")
            while alt is not None:
                more = _one(var, alt, sdtm, dm, out)
                gap = blank(cols[var])
                for name, col in more.items():
                    cols[name] = cols[name].where(~gap, col) if name in cols else col
                alt = alt.get("else")
        for name, col in cols.items():
            if col.dtype.kind not in "fiubcmM":  # text: blank, never null (no record)
                col = col.where(col.notna(), "")
            out[name] = col.to_numpy()
    return out
