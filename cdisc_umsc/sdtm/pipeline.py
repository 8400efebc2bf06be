"""Raw forms -> SDTM: read every form, build every domain stage by stage, conform to metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.core.progress import StepHook, no_steps
from cdisc_umsc.core.values import blank, filled_text, forget_columns, number_text, to_number
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.metadata.resolve import dataset_meta, with_value_types
from cdisc_umsc.metadata.spec import StudySpec
from cdisc_umsc.read.forms import FORM, ROW, WHERE
from cdisc_umsc.read.raw import read_raw_forms
from cdisc_umsc.sdtm import build as B
from cdisc_umsc.sdtm import describe as D
from cdisc_umsc.sdtm import trial_design as T
from cdisc_umsc.sdtm.check_spec import field_use
from cdisc_umsc.sdtm.context import REC, Build, Context
from cdisc_umsc.sdtm.supp import build_supp


@dataclass
class SdtmResult:
    """The SDTM datasets, their metadata, and the raw-record accounting."""

    data: dict[str, pd.DataFrame]
    meta: dict[str, Dataset]
    #: per form: rows read, rows mapped, rows excluded by a spec filter with the reason
    accounting: list[dict] = field(default_factory=list)
    #: per dataset record: source form and raw row, and the record's place in its export
    #: where a row number does not say it (an ODM record's path) (lineage)
    lineage: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: values of the raw fields declared as direct identifiers (for the PHI guard)
    identifier_values: set[str] = field(default_factory=set)
    #: per dataset: derived records (``record``) and the records they came from (``source``),
    #: both 0-based positions in ``data[DS]``, with the spec ``step`` that derived them
    derived_from: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: per dataset: rows of subject-level forms read by FORM.FIELD references, joined by
    #: subject (``record`` 0-based position, ``form``, ``row``)
    looked_up: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: spec conditions that matched no record in the whole run ("file:line: words"): almost
    #: always a spec mistake (a value spelled differently from the data), so they are reported
    unmatched: list[str] = field(default_factory=list)
    #: files of the raw folder that are no form, with the spec's reason (raw.ignore)
    ignored: list[dict[str, str]] = field(default_factory=list)


def ignored_files(study: StudySpec, raw_dir: Path) -> list[dict[str, str]]:
    """Every file of the raw folder that is no form, with the reason ``raw.ignore`` gives; a
    file that is neither is an error (nothing in the export is passed over in silence)."""
    raw_dir = Path(raw_dir)
    forms = {f.file for f in study.forms.values()}
    found = []
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        name = path.relative_to(raw_dir).as_posix()
        if name in forms:
            continue
        reason = next((why for pat, why in study.ignored.items() if fnmatch(name, pat)), None)
        if reason is None:
            raise InputError(
                f"{raw_dir.name}/{name}: a file of the raw folder that is no form of the spec; "
                "declare it as a form, or list it under raw: ignore: in study.yaml with the reason"
            )
        found.append({"file": name, "reason": reason})
    return found


def read_forms(
    study: StudySpec, raw_dir: Path, step: StepHook = no_steps
) -> dict[str, pd.DataFrame]:
    """Read every declared form, each by its reader."""
    cutoff = str(study.settings.get("created") or "") or None
    return read_raw_forms(Path(raw_dir), study.forms, study.encoding, cutoff, step)


def _order(study: StudySpec) -> list[str]:
    names = list(study.domains)
    return ["DM", *[n for n in names if n != "DM"]] if "DM" in names else names


#: the error of the first record where ``mask`` holds, for ``column`` (file, row, column)
RowError = Callable[[pd.Series, str, str, pd.Series], InputError]


def conform(frame: pd.DataFrame, meta: Dataset, row_error: RowError | None = None) -> pd.DataFrame:
    """Order, type and blank handling from the metadata; nothing else. A text that is no
    number in a Num variable is an error, of the record's raw row where ``row_error`` says it."""
    out = {}
    for v in meta.variables:
        col: pd.Series = frame[v.name] if v.name in frame else pd.Series("", index=frame.index)
        if v.type == "Num":
            if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
                # the project's one reading of a number (core/values: ASCII, finite), so
                # 'inf', '1e400' or '８２' is an error here too, never a stored value
                num = to_number(col)
                missing = num.isna()
                wrong = missing & ~blank(col) if missing.any() else missing
                if wrong.any():
                    message = f"{meta.name}.{v.name} is numeric: expected a number"
                    if row_error is not None:
                        raise row_error(wrong, v.name, message, col)
                    pos = int(np.flatnonzero(wrong.to_numpy())[0])
                    raise InputError(
                        f"{meta.name}: record {pos + 1}, column {v.name}: {message} "
                        f"(got {col.iloc[pos]!r})"
                    )
                col = num
            out[v.name] = col.astype("float64")
        else:
            if col.dtype.kind == "f":
                col = number_text(col)
            out[v.name] = filled_text(col)
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)


def build_sdtm(study: StudySpec, raw_dir: Path, step: StepHook = no_steps) -> SdtmResult:
    """Run the whole SDTM mapping for one study; ``step(name, records)`` is called as each
    form is read, each mapping stage ends and each dataset is conformed."""
    try:
        return _build_sdtm(study, raw_dir, step)
    finally:
        forget_columns()


def _build_sdtm(study: StudySpec, raw_dir: Path, step: StepHook) -> SdtmResult:
    ignored = ignored_files(study, raw_dir)
    forms = read_forms(study, raw_dir, step)
    ctx = Context(study, forms)
    std, version = study.sdtm_standard
    for name in _order(study):
        ctx.builds[name] = B.start_domain(ctx, study.domains[name])
    td = study.trial_design
    for stage in B.STAGES:
        if stage == 2 and td is not None:
            for name, builder in T.BUILDERS.items():
                if name in td:
                    ctx.builds[name] = builder(ctx, td[name])
        for name in _order(study):
            b = ctx.builds[name]
            if stage == 2:
                B.add_derived_records(ctx, b)
            if stage == 4:
                B.sort_domain(b)
            B.run_stage(ctx, b, stage)
        if stage == 2 and td is not None and "SE" in td:
            ctx.builds["SE"] = T.subject_elements(ctx, td["SE"])
        step(f"mapping stage {stage} of {len(B.STAGES)}", None)
    if td is not None and "TS" in td:
        ctx.builds["TS"] = T.trial_summary(ctx, td["TS"])
    data: dict[str, pd.DataFrame] = {}
    meta: dict[str, Dataset] = {}
    lineage: dict[str, pd.DataFrame] = {}
    derived_from: dict[str, pd.DataFrame] = {}
    looked_up: dict[str, pd.DataFrame] = {}
    for name, b in ctx.builds.items():
        overrides = D.overrides(study, b, meta.get("DM"))
        variables = [c for c in b.out.columns if not c.startswith("_")]
        locate = b.spec.spec.key_where if b.spec.spec is not None else None
        ds = dataset_meta(
            std, version, name, variables, overrides, b.spec.keys, b.spec.file, locate
        )
        labels = {v.name: v.label for v in ds.variables}
        if b.spec.sources or b.supp:
            supp = build_supp(ctx, b, labels)
            if supp is not None:
                sname = f"SUPP{name}"
                smeta = dataset_meta(
                    std,
                    version,
                    sname,
                    list(supp.columns),
                    D.supp_overrides(ds),
                    ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"),
                    b.spec.file,
                )
                smeta = replace(
                    smeta, value_level=D.supp_value_level(study, b, ds, supp["QNAM"].unique())
                )
                data[sname] = conform(supp, smeta)
                step(f"conform {sname}", len(data[sname]))
                meta[sname] = smeta
        data[name] = conform(b.out, ds, lambda *a, b=b: ctx.row_error(b, *a))
        step(f"conform {name}", len(data[name]))
        ds = replace(ds, value_level=D.value_level(study, b, ds, data[name]))
        meta[name] = with_value_types(ds, data[name])
        if ROW in b.raw:
            lineage[name] = pd.DataFrame(
                {
                    "form": b.raw[FORM].fillna("").to_numpy(),
                    "row": b.raw[ROW].fillna(0).astype("int64").to_numpy(),
                    "item": _melted_item(b).to_numpy(),
                    "where": (
                        b.raw[WHERE].fillna("").astype(str).to_numpy() if WHERE in b.raw else ""
                    ),
                }
            )
        if b.derived_from:
            derived_from[name] = _derived_positions(b)
        if any(dom == name for dom, _s, _f in ctx.lookups):
            looked_up[name] = _lookup_rows(study, forms, ctx, name, b)
    accounting = _account(study, forms, ctx)
    secrets = {str(v) for form, fld in study.identifiers for v in forms[form][fld] if v}
    unmatched = [
        f"{where}: {ctx.condition_text[where]}"
        for where, hit in sorted(ctx.condition_hits.items())
        if not hit
    ]
    return SdtmResult(
        data, meta, accounting, lineage, secrets, derived_from, looked_up, unmatched, ignored
    )


def _lookup_rows(
    study: StudySpec, forms: dict[str, pd.DataFrame], ctx: Context, name: str, b: Build
) -> pd.DataFrame:
    """Per record of ``b``: the row of each form it read by FORM.FIELD, on the look-up's key
    (``record`` 0-based position, ``form``, ``row``, ``key`` such as SUBJID=001, VISIT=W4)."""
    parts = []
    for (dom, source, form), pairs in sorted(ctx.lookups.items()):
        if dom != name:
            continue
        mine = [t for _o, t in pairs]
        theirs = [o for o, _t in pairs]
        records = b.raw.loc[b.raw[FORM] == source, mine].copy()
        records["record"] = np.flatnonzero((b.raw[FORM] == source).to_numpy())
        other = forms[form][[*theirs, ROW]].rename(columns=dict(zip(theirs, mine, strict=True)))
        hit = records.merge(other, on=mine, how="inner")
        key = pd.Series("", index=hit.index, dtype=object)
        for i, (o, t) in enumerate(pairs):
            key = key + ("" if i == 0 else ", ") + f"{o}=" + hit[t].astype(str)
        parts.append(
            pd.DataFrame(
                {
                    "record": hit["record"].to_numpy(dtype="int64"),
                    "form": form,
                    "row": hit[ROW].to_numpy(dtype="int64"),
                    "key": key.to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _melted_item(b: Build) -> pd.Series:
    """For records from a melted source: the raw field the record's value came from."""
    item = pd.Series("", index=b.raw.index, dtype=object)
    for src in b.spec.sources:
        name = str(src.melt["name"]) if src.melt is not None else ""
        if name and name in b.raw.columns:
            own = (b.raw[FORM] == src.form).to_numpy()
            item = item.where(~own, b.raw[name].fillna("").astype(str))
    return item


def _derived_positions(b: Build) -> pd.DataFrame:
    """Derived-record edges as positions in the finished (sorted) dataset."""
    pos = pd.Series(np.arange(len(b.raw), dtype="int64"), index=b.raw[REC].to_numpy())
    edges = pd.concat(b.derived_from, ignore_index=True)
    return pd.DataFrame(
        {
            "record": pos.reindex(edges["rec"]).to_numpy(),
            "source": pos.reindex(edges["src"]).to_numpy(),
            "step": edges["step"].to_numpy(),
        }
    )


def _account(study: StudySpec, forms: dict[str, pd.DataFrame], ctx: Context) -> list[dict]:
    """Rows in = rows mapped + rows excluded, per form (raises when it does not reconcile),
    and what becomes of each declared field."""
    fields = field_use(study)
    used: dict[str, set[int]] = {n: set() for n in forms}
    for b in ctx.builds.values():
        if FORM in b.raw:
            for form, form_rows in b.raw.groupby(FORM)[ROW]:
                if form:
                    used[str(form)].update(form_rows.unique().astype("int64").tolist())
    for (dom, source, form), pairs in ctx.lookups.items():
        # a looked-up row is mapped when a record of the domain found it by the join's key
        b = ctx.builds[dom]
        mine = b.raw.loc[b.raw[FORM] == source, [t for _o, t in pairs]].drop_duplicates()
        other = forms[form][[*[o for o, _t in pairs], ROW]]
        other = other.rename(columns={o: t for o, t in pairs})
        used[form].update(other.merge(mine, on=list(mine.columns), how="inner")[ROW].astype(int))
    excluded: dict[str, dict[int, str]] = {n: {} for n in forms}
    for form, row, reason in ctx.excluded:
        excluded[form][row] = reason
    result = []
    for name, frame in forms.items():
        rows = set(frame[ROW].astype(int).tolist())
        mapped = used[name] & rows
        excl = {r: why for r, why in excluded[name].items() if r not in mapped}
        lost = rows - mapped - set(excl)
        reasons: dict[str, int] = {}
        for why in excl.values():
            reasons[why] = reasons.get(why, 0) + 1
        if lost:
            # a form no domain maps must be declared as such; reaching here is a spec gap
            raise InputError(
                f"{study.forms[name].file}: row {min(lost)}: record not mapped to "
                "any domain and not excluded with a reason"
            )
        result.append(
            {
                "form": name,
                "file": study.forms[name].file,
                "read": len(rows),
                "mapped": len(mapped),
                "excluded": len(excl),
                "reasons": reasons,
                "fields": fields[name],
            }
        )
    return result
