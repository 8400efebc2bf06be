"""Dataset structure checks: metadata agreement, IG core / type / label, lengths, uniqueness."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pandas as pd

from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.validate.catalogue import check
from cdisc_umsc.validate.context import Context, as_text, blank, duplicated

Hits = Iterator[pd.DataFrame]

#: SAS XPORT v5 (TS-140) stores at most 200 bytes per character value.
MAX_CHAR_BYTES = 200


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(series.dtype) or series.dtype == object


# ----------------------------------------------------------------------- data vs metadata


@check("UMSC-MD0001")
def dataset_has_metadata(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    if meta is None:
        yield ctx.note(name, "", name, f"{name} is not in study.datasets")


@check("UMSC-MD0002")
def data_variable_described(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    if meta is None:
        return
    for var in frame.columns:
        if not meta.has(var):
            yield ctx.note(name, var, "", f"{name}.{var}")


@check("UMSC-MD0003")
def metadata_variable_present(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    if meta is None:
        return
    for var in meta.names:
        if var not in frame.columns:
            yield ctx.note(name, var, "", f"{name}.{var}")


@check("UMSC-MD0004")
def data_type_matches_metadata(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    if meta is None:
        return
    for var in meta.variables:
        if var.name not in frame.columns:
            continue
        col = frame[var.name]
        numeric = pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(
            col.dtype
        )
        ok = _is_text(col) if var.type == "Char" else numeric
        if not ok:
            yield ctx.note(
                name,
                var.name,
                str(col.dtype),
                f"{name}.{var.name} is {var.type} in the metadata but the column "
                f"holds dtype {col.dtype}",
            )


def ig_name(standard: str) -> str:
    """The IG a metadata standard name means: Define-XML 1.0 writes 'CDISC SDTM' or
    'SDTM-IG' for the SDTMIG and 'ADaM' for the ADaMIG."""
    text = standard.upper()
    if "ADAM" in text:
        return "ADaMIG"
    return "SDTMIG" if "SDTM" in text else standard


@check("UMSC-MD0005")
def ig_version_bundled(ctx: Context) -> Hits:
    std, version = ig_name(ctx.study.standard), ctx.study.standard_version
    have = S.versions().get(std) if std in ("SDTMIG", "ADaMIG") else None
    if have is not None and version != have:
        yield ctx.note(
            "",
            "",
            f"{std} {version}",
            f"the study names {std} {version}; datasets were checked against {std} {have}",
        )


# ----------------------------------------------------------------------- IG core designations


def _required(ctx: Context, name: str, meta: Dataset | None) -> list[str]:
    rows = ctx.ig_rows(name)
    names = [
        v
        for v, c in zip(rows["variable"], rows["core"], strict=True)
        if c == "Req" and not ctx.is_template(v)
    ]
    if meta is not None:
        names += [v.name for v in meta.variables if v.core == "Req" and v.name not in names]
    return names


@check("UMSC-SD0001")
def required_present(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    for var in _required(ctx, name, meta):
        if var not in frame.columns:
            yield ctx.note(name, var, "", f"{name}.{var}")


@check("UMSC-SD0002")
def required_not_null(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    for var in _required(ctx, name, meta):
        if var in frame.columns:
            yield ctx.hits(name, blank(frame[var]), var, "", f"{name}.{var}")


@check("UMSC-SD0003")
def expected_present(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    rows = ctx.ig_rows(name)
    for var in rows.loc[rows["core"] == "Exp", "variable"]:
        if var not in frame.columns:
            yield ctx.note(name, var, "", f"{name}.{var}")


@check("UMSC-SD0004")
def variable_allowed(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    ig_names = set(ctx.ig_rows(name)["variable"])
    extra = [v for v in frame.columns if v not in ig_names]
    if not extra:
        return
    cls = ctx.domain_class(name)
    if not cls:
        yield ctx.note(
            name,
            "",
            name,
            f"class of {name} is unknown: its variables "
            f"{', '.join(extra)} cannot be checked against the model",
        )
        return
    domain = "SUPPQUAL" if name.startswith("SUPP") else name
    try:
        bad = [v for v in extra if not S.model_allows(cls, domain, v)]
    except S.StandardsError as exc:
        yield ctx.note(name, "", name, f"{name} cannot be checked against the SDTM model: {exc}")
        return
    for var in bad:
        yield ctx.note(
            name,
            var,
            "",
            f"{var} is not an IG variable of {name} and the SDTM "
            f"model does not allow it in class {cls} (use SUPP{name})",
        )


@check("UMSC-SD0005")
def type_matches_ig(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    if meta is None:
        return
    for var in meta.variables:
        ig = ctx.ig_var(name, var.name)
        if ig and ig["type"] in ("Char", "Num") and ig["type"] != var.type:
            yield ctx.note(
                name,
                var.name,
                var.type,
                f"{name}.{var.name} is {var.type}; the IG says {ig['type']}",
            )


@check("UMSC-SD0006")
def label_matches_ig(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    if meta is None:
        return
    for var in meta.variables:
        ig = ctx.ig_var(name, var.name)
        if ig and not ctx.is_template(ig["variable"]) and ig["label"] != var.label:
            yield ctx.note(
                name,
                var.name,
                var.label,
                f"{name}.{var.name} label {var.label!r}; the IG says {ig['label']!r}",
            )


# ----------------------------------------------------------------------- lengths


def _bytes_in(size: pd.Series, where: str) -> pd.Series:
    return size.astype(str) + f" bytes in {where}"


@check("UMSC-SD0007")
def char_at_most_200_bytes(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    for var in frame.columns:
        if _is_text(frame[var]):
            size = ctx.nbytes(name, var)
            yield ctx.hits(
                name,
                size > MAX_CHAR_BYTES,
                var,
                frame[var],
                partial(_bytes_in, size, f"{var} (limit {MAX_CHAR_BYTES})"),
            )


@check("UMSC-SD0008")
def char_within_declared_length(
    ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None
) -> Hits:
    if meta is None:
        return
    for var in meta.variables:
        if var.type == "Char" and var.length is not None and var.name in frame.columns:
            size = ctx.nbytes(name, var.name)
            yield ctx.hits(
                name,
                size > var.length,
                var.name,
                frame[var.name],
                partial(_bytes_in, size, f"{var.name} (declared {var.length})"),
            )


# ----------------------------------------------------------------------- uniqueness


def _duplicates(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """True on every record whose key values occur more than once."""
    return pd.Series(duplicated(frame, keys), index=frame.index)


def _joined(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    out = pd.Series("", index=frame.index, dtype=object)
    for i, key in enumerate(keys):
        out = out + ("" if i == 0 else ", ") + f"{key}=" + as_text(frame[key])
    return out


@check("UMSC-SD0009")
def seq_unique(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    seq = ctx.seq_var(name)
    subject = [k for k in ("USUBJID", "POOLID") if k in frame.columns]
    if seq is None or not subject:
        return  # trial design sequence numbers (TSSEQ ...) are not per subject
    keys = [*subject, seq]
    dup = _duplicates(frame, keys) & frame[seq].notna()
    yield ctx.hits(
        name, dup, seq, frame[seq], lambda: f"{seq} repeats within " + _joined(frame, keys[:-1])
    )


@check("UMSC-SD0010")
def keys_unique(ctx: Context, name: str, frame: pd.DataFrame, meta: Dataset | None) -> Hits:
    if meta is None or not meta.keys:
        return
    absent = [k for k in meta.keys if k not in frame.columns]
    if absent:
        yield ctx.note(
            name,
            ", ".join(absent),
            "",
            f"key variables {absent} of {name} are absent, so its keys cannot be checked",
        )
        return
    keys = list(meta.keys)
    yield ctx.hits(
        name,
        _duplicates(frame, keys),
        ", ".join(keys),
        lambda: _joined(frame, keys),
        "more than one record has these key values",
    )


# ----------------------------------------------------------------------- reading the files


def _read_issues(ctx: Context, rule: str) -> Hits:
    issues = ctx.read_issues
    if issues is not None and len(issues):
        mine = issues[issues["rule"] == rule]
        if len(mine):
            yield mine.drop(columns="rule").reset_index(drop=True)


@check("UMSC-FI0001")
def text_encoding(ctx: Context) -> Hits:
    """A text value whose bytes are not valid in the expected encoding (read as Windows-1252
    so that the rest of the dataset is still checked)."""
    yield from _read_issues(ctx, "UMSC-FI0001")


@check("UMSC-FI0002")
def unreadable_file(ctx: Context) -> Hits:
    """A dataset file that cannot be read; the other datasets are still checked."""
    yield from _read_issues(ctx, "UMSC-FI0002")
