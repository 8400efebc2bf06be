"""Cross-dataset checks: subjects in DM, SUPP-- parents, VISITNUM <-> VISIT."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.context import Context, as_text, blank

Hits = Iterator[pd.DataFrame]
_SUPP = ("RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL")


@check("UMSC-XD0001")
def subject_in_dm(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 5 (DM): every USUBJID of every dataset has a DM record."""
    if name == "DM" or "USUBJID" not in frame.columns:
        return
    dm = ctx.datasets.get("DM")
    if dm is None or "USUBJID" not in dm.columns:
        yield ctx.note(
            name, "USUBJID", "", f"no DM dataset with USUBJID: subjects of {name} cannot be checked"
        )
        return
    subj = as_text(frame["USUBJID"])
    missing = ~blank(frame["USUBJID"]) & ~subj.isin(set(as_text(dm["USUBJID"])))
    yield ctx.hits(name, missing, "USUBJID", subj, lambda: "USUBJID '" + subj + "' is not in DM")


def _supp(frame: pd.DataFrame, name: str) -> bool:
    return name.startswith("SUPP") and set(_SUPP) <= set(frame.columns)


@check("UMSC-XD0002")
def supp_rdomain_exists(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 8.4 / 4.1.7: RDOMAIN names a domain of the study; a split domain (LBCH,
    LBHE ...) counts as its domain (SUPPLBCH holds RDOMAIN 'LB')."""
    if not _supp(frame, name):
        return
    rdomain = as_text(frame["RDOMAIN"])
    known = {d for d in set(rdomain) if ctx.supp_parents(name, d)}
    yield ctx.hits(
        name,
        ~rdomain.isin(known),
        "RDOMAIN",
        rdomain,
        lambda: "RDOMAIN '" + rdomain + "' is not a domain of the study",
    )


def _parent(ctx: Context, name: str, dom: str, columns: list[str]) -> pd.DataFrame | None:
    """The records of RDOMAIN ``dom`` that SUPP-- dataset ``name`` refers to (split datasets
    joined), with ``columns``; None when a parent lacks one of them."""
    parts = []
    for parent in ctx.supp_parents(name, dom):
        frame = ctx.datasets[parent]
        if any(c not in frame.columns for c in columns):
            return None
        parts.append(frame[columns])
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _pairs(ctx: Context, name: str, frame: pd.DataFrame) -> Iterator[tuple[str, str, pd.Series]]:
    """(RDOMAIN, IDVAR, mask of its records) for each distinct pair whose parent exists."""
    rdomain, idvar = as_text(frame["RDOMAIN"]), as_text(frame["IDVAR"]).str.strip()
    for dom, var in (
        frame.assign(_d=rdomain, _v=idvar)[["_d", "_v"]].drop_duplicates().itertuples(index=False)
    ):
        if ctx.supp_parents(name, dom):
            yield dom, var, (rdomain == dom) & (idvar == var)


@check("UMSC-XD0003")
def supp_idvar_exists(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    if not _supp(frame, name):
        return
    for dom, var, rows in _pairs(ctx, name, frame):
        parents = ctx.supp_parents(name, dom)
        lacking = [p for p in parents if var not in ctx.datasets[p].columns]
        if var and lacking:
            yield ctx.hits(
                name, rows, "IDVAR", var, f"IDVAR {var} is not a variable of {', '.join(lacking)}"
            )


@check("UMSC-XD0004")
def supp_parent_exists(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 8.4: RDOMAIN / USUBJID / IDVAR / IDVARVAL identify an existing record (in
    the named split dataset, or in any dataset of the domain)."""
    if not _supp(frame, name):
        return
    subj = as_text(frame["USUBJID"])
    for dom, var, rows in _pairs(ctx, name, frame):
        parent = _parent(ctx, name, dom, ["USUBJID"] + ([var] if var else []))
        if parent is None:
            continue  # reported by UMSC-SD0001 / UMSC-XD0003
        p_subj = as_text(parent["USUBJID"])
        where = "/".join(ctx.supp_parents(name, dom))
        if not var:
            found = subj.isin(set(p_subj))
            what = "no " + where + " record for USUBJID '" + subj + "'"
        else:
            pvals = parent[var]
            if pd.api.types.is_numeric_dtype(pvals.dtype):
                mine = pd.to_numeric(as_text(frame["IDVARVAL"]).str.strip(), errors="coerce")
                theirs = pd.to_numeric(pvals, errors="coerce")
            else:
                mine = as_text(frame["IDVARVAL"]).str.strip()
                theirs = as_text(pvals).str.strip()
            index = pd.MultiIndex.from_arrays([p_subj, theirs])
            found = pd.Series(
                pd.MultiIndex.from_arrays([subj, mine]).isin(index), index=frame.index
            )
            what = (
                f"no {where} record with USUBJID '"
                + subj
                + f"' and {var} = '"
                + as_text(frame["IDVARVAL"])
                + "'"
            )
        yield ctx.hits(name, rows & ~found, "IDVARVAL", as_text(frame["IDVARVAL"]), what)


# ----------------------------------------------------------------------- visits


def _visits(frame: pd.DataFrame) -> pd.DataFrame | None:
    """Distinct (VISITNUM, VISIT) text pairs with the first row of each, or None."""
    if not {"VISITNUM", "VISIT"} <= set(frame.columns):
        return None
    raw = frame[["VISITNUM", "VISIT"]].drop_duplicates()  # first record of each pair
    pairs = pd.DataFrame({"num": as_text(raw["VISITNUM"]), "visit": as_text(raw["VISIT"])})
    pairs = pairs[(pairs["num"] != "") & (pairs["visit"] != "")]
    return pairs.drop_duplicates().rename_axis("row").reset_index()


def _conflicts(pairs: pd.DataFrame, group: str) -> pd.DataFrame:
    """Rows of `pairs` whose VISITNUM (or VISIT) has more than one partner, with the variants."""
    other = "visit" if group == "num" else "num"
    variants = pairs.groupby(group)[other].agg(lambda s: " | ".join(sorted(set(s))))
    many = pairs.groupby(group)[other].transform("nunique") > 1
    return pairs[many].assign(variants=pairs.loc[many, group].map(variants))


@check("UMSC-XD0005")
def visit_one_to_one(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    """SDTMIG 3.4 4.4.5: each VISITNUM has one VISIT and each VISIT one VISITNUM."""
    pairs = _visits(frame)
    if pairs is None:
        return
    mask = pd.Series(False, index=frame.index)
    msg = pd.Series("", index=frame.index, dtype=object)
    for group, label, partner in (("visit", "VISIT", "VISITNUM"), ("num", "VISITNUM", "VISIT")):
        bad = _conflicts(pairs, group)
        text = f"{label} '" + bad[group] + f"' has {partner} values " + bad["variants"]
        msg.loc[bad["row"].to_numpy()] = text.to_numpy()
        mask.loc[bad["row"].to_numpy()] = True
    yield ctx.hits(name, mask, "VISITNUM", lambda: as_text(frame["VISITNUM"]), msg)


@check("UMSC-XD0006")
def visit_consistent_across(ctx: Context) -> Hits:
    """SDTMIG 3.4 4.4.5: a VISITNUM names the same VISIT in every dataset (and vice versa)."""
    parts = []
    for name, frame in ctx.datasets.items():
        pairs = None if ctx.is_adam(name) else _visits(frame)
        if pairs is not None:
            parts.append(pairs.drop_duplicates(["num", "visit"]).assign(dataset=name))
    if not parts:
        return
    allp = pd.concat(parts, ignore_index=True)
    allp["tag"] = "'" + allp["visit"] + "' (" + allp["dataset"] + ")"
    allp["tagn"] = allp["num"] + " (" + allp["dataset"] + ")"
    for group, other, tag, label in (
        ("num", "visit", "tag", "VISITNUM"),
        ("visit", "num", "tagn", "VISIT"),
    ):
        spread = allp.groupby(group)[other].transform("nunique") > 1
        across = allp.groupby(group)["dataset"].transform("nunique") > 1
        bad = allp[spread & across]
        if bad.empty:
            continue
        listing = bad.groupby(group)[tag].agg(lambda s: ", ".join(sorted(s)))
        for name, rows in bad.groupby("dataset", sort=True):
            yield pd.DataFrame(
                {
                    "dataset": name,
                    "row": rows["row"].to_numpy(),
                    "variable": label,
                    "value": rows[group].to_numpy(),
                    "message": (
                        f"{label} '"
                        + rows[group]
                        + "' differs across datasets: "
                        + rows[group].map(listing)
                    ).to_numpy(),
                }
            )
