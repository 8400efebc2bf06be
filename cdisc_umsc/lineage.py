"""Lineage kept beside the datasets: every output record's source, and the spec line of each step.

``out/lineage/<sdtm|adam>/<dataset>.csv`` has one line per (record, source) pair:

- ``record``: the record's number in its dataset file (1 = first record);
- ``kind``: ``raw`` (a raw CRF row), ``record`` (a record of another or the same dataset) or
  ``spec`` (a record written from the spec itself, e.g. trial design);
- ``source`` and ``row``: the raw file and its data row (1 = first row under the header; a
  workbook's sheet, ``AE.xlsx sheet AE``; an ODM file's item group, ``study.xml
  ItemGroupOID=IG.AE``, and its record in document order), or the dataset (``sdtm/QS``) and its
  record number, or the spec file and line;
- ``key``: what identifies the source record to a reader (``SIGN=ERYTH`` for a melted CRF item,
  an ODM record's path ``SubjectKey=001 StudyEventOID=SE.V1 FormOID=F.AE
  ItemGroupRepeatKey=2``, ``QSSEQ=177`` for an SDTM record: ADaMIG 1.3 SRCDOM/SRCSEQ
  traceability);
- ``step``: the spec location (``file:line``) of the mapping step that made the record.

``out/lineage/variables.csv`` gives, per dataset and source, the spec line that mapped each
variable. Lineage is never written as extra variables of a dataset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cdisc_umsc.core.atomic import make_folder, write_text
from cdisc_umsc.core.csvtext import csv_text
from cdisc_umsc.core.errors import InputError, ReconciliationError
from cdisc_umsc.metadata.model import Dataset
from cdisc_umsc.metadata.spec import DomainSpec, StudySpec
from cdisc_umsc.metadata.specfile import SpecMap
from cdisc_umsc.sdtm.evaluate import names_in
from cdisc_umsc.sdtm.pipeline import SdtmResult

FOLDER = "lineage"
RECORD_COLUMNS = ("record", "USUBJID", "kind", "source", "row", "key", "step")
VARIABLE_COLUMNS = ("dataset", "source", "variable", "spec")


def _edges(record: np.ndarray, usubjid, kind: str, source, row, key, step) -> pd.DataFrame:
    n = len(record)
    frame = pd.DataFrame(
        {
            "record": np.asarray(record, dtype="int64") + 1,
            "USUBJID": usubjid,
            "kind": kind,
            "source": source,
            "row": np.asarray(row, dtype="int64"),
            "key": key,
            "step": step,
        },
        index=range(n),
    )
    return frame[list(RECORD_COLUMNS)]


def _usubjid(frame: pd.DataFrame) -> np.ndarray:
    if "USUBJID" in frame.columns:
        return frame["USUBJID"].fillna("").astype(str).to_numpy()
    return np.full(len(frame), "", dtype=object)


def _map(values: pd.Series, mapping: dict[str, str], default: str) -> np.ndarray:
    """``mapping`` of each value, ``default`` where it has none."""
    mapped = values.map(mapping).astype(object)
    return mapped.where(mapped.notna(), default).to_numpy()


def _seq_var(name: str, frame: pd.DataFrame) -> str | None:
    var = f"{name}SEQ"
    return var if var in frame.columns else None


def _seq_text(values: pd.Series) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    return num.astype("Int64").astype("string").fillna("").astype(object)


def _source_step(dom: DomainSpec, form: str) -> str:
    """The spec line of the source block that reads ``form`` into ``dom``."""
    spec = dom.spec
    if spec is None:
        return dom.file
    if "source" in spec:
        return f"{spec.where('source')}: source {form}"
    for block in spec.get("sources") or []:
        if isinstance(block, SpecMap) and str(block.get("form")) == form:
            return f"{block.where()}: source {form}"
    return f"{dom.file}: source {form}"


# ---------------------------------------------------------------------------------- SDTM


def _raw_edges(spec: StudySpec, name: str, frame: pd.DataFrame, lin: pd.DataFrame) -> pd.DataFrame:
    dom = spec.domains[name]
    from_raw = (lin["form"] != "").to_numpy()
    pos = np.flatnonzero(from_raw)
    forms = lin["form"].to_numpy()[pos]
    files = pd.Series(forms).map({n: f.source for n, f in spec.forms.items()}).to_numpy()
    melt = {s.form: str(s.melt["name"]) for s in dom.sources if s.melt is not None}
    item = lin["item"].to_numpy()[pos] if "item" in lin else np.full(len(pos), "")
    names = _map(pd.Series(forms), melt, "")
    key = np.where(item != "", names + "=" + item.astype(str), "")
    if "where" in lin:  # an ODM record's path, before the melted item
        place = lin["where"].to_numpy()[pos].astype(str)
        key = np.where(place == "", key, np.where(key == "", place, place + " " + key))
    steps = pd.Series(forms).map({f: _source_step(dom, f) for f in set(forms)}).to_numpy()
    return _edges(pos, _usubjid(frame)[pos], "raw", files, lin["row"].to_numpy()[pos], key, steps)


def _lookup_step(dom: DomainSpec, form: str) -> str:
    """The spec line of the first variable of ``dom`` reading a FORM.FIELD of ``form``."""
    specs = [*(v for s in dom.sources for v in s.variables.items()), *dom.variables.items()]
    for var, p in specs:
        if isinstance(p, SpecMap) and any(n.startswith(f"{form}.") for n in names_in(p)):
            return f"{p.where()}: {var} reads {form} by its key"
    return f"{dom.file}: {form} read by its key"


def _lookup_edges(
    spec: StudySpec, name: str, frame: pd.DataFrame, looked: pd.DataFrame
) -> pd.DataFrame:
    dom = spec.domains[name]
    rec = looked["record"].to_numpy(dtype="int64")
    forms = looked["form"].astype(str)
    files = forms.map({n: f.source for n, f in spec.forms.items()}).to_numpy()
    key = looked["key"].astype(str).to_numpy()
    steps = forms.map({f: _lookup_step(dom, f) for f in set(forms)}).to_numpy()
    return _edges(rec, _usubjid(frame)[rec], "raw", files, looked["row"].to_numpy(), key, steps)


def _derived_edges(name: str, frame: pd.DataFrame, derived: pd.DataFrame) -> pd.DataFrame:
    src = derived["source"].to_numpy(dtype="int64")
    seq_var = _seq_var(name, frame)
    key = (seq_var + "=" + _seq_text(frame[seq_var]).to_numpy()[src]) if seq_var else ""
    return _edges(
        derived["record"].to_numpy(),
        _usubjid(frame)[derived["record"].to_numpy()],
        "record",
        f"sdtm/{name}",
        src + 1,
        key,
        derived["step"].to_numpy(),
    )


def _parent_positions(
    parent: pd.DataFrame, usubjid: pd.Series, seq_var: str | None, seq: pd.Series | None
) -> np.ndarray:
    """Position of each (USUBJID[, --SEQ]) in ``parent``; -1 where there is none."""
    cols = {"USUBJID": parent["USUBJID"].astype(str).to_numpy()}
    want = {"USUBJID": usubjid.astype(str).to_numpy()}
    if seq_var is not None and seq is not None:
        cols["_seq"] = _seq_text(parent[seq_var]).to_numpy()
        want["_seq"] = _seq_text(seq).to_numpy()
    table = pd.DataFrame(cols).assign(_pos=np.arange(len(parent)))
    table = table.drop_duplicates(list(cols), keep="first")
    hit = pd.DataFrame(want).merge(table, on=list(cols), how="left")
    return hit["_pos"].fillna(-1).to_numpy(dtype="int64")


def _supp_edges(
    spec: StudySpec, name: str, frame: pd.DataFrame, data: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """SUPP-- records point at their parent record (RDOMAIN, IDVAR/IDVARVAL or USUBJID)."""
    parts = []
    for rdomain in sorted(frame["RDOMAIN"].astype(str).unique()):
        sel = np.flatnonzero((frame["RDOMAIN"].astype(str) == rdomain).to_numpy())
        sub = frame.iloc[sel]
        parent = data[rdomain]
        seq_var = _seq_var(rdomain, parent)
        idval = sub["IDVARVAL"].astype(str)
        pos = _parent_positions(
            parent, sub["USUBJID"], seq_var if (idval != "").any() else None, idval
        )
        dom = spec.domains.get(rdomain)
        supp_spec: SpecMap = (
            dom.spec.get("supp") if dom is not None and dom.spec is not None else None
        ) or SpecMap()
        qnam = sub["QNAM"].astype(str)
        declared = {q: f"{supp_spec.where(q)}: supp {q}" for q in supp_spec}
        split = f"{dom.file if dom else rdomain}: text over 200 characters (SDTMIG 4.5.3.2)"
        step = _map(qnam, declared, split)
        idvar = sub["IDVAR"].astype(str).to_numpy()
        key = np.where(
            idval.to_numpy() != "",
            idvar + "=" + idval.to_numpy(),
            "USUBJID=" + sub["USUBJID"].astype(str).to_numpy(),
        )
        parts.append(_edges(sel, _usubjid(sub), "record", f"sdtm/{rdomain}", pos + 1, key, step))
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else _edges(np.array([]), [], "", "", [], "", "")
    )


def _spec_edges(
    spec: StudySpec, name: str, frame: pd.DataFrame, data: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Trial design records come from the spec; SE records also from the subject's DM record."""
    td = spec.trial_design
    block = td[name] if td is not None and name in td else None
    where = block.where() if isinstance(block, SpecMap) else f"{spec.root.name}/sdtm"
    file, _, line = where.rpartition(":")
    rec = np.arange(len(frame))
    if name == "SE" and "DM" in data:
        pos = _parent_positions(data["DM"], frame["USUBJID"], None, None)
        key = "USUBJID=" + frame["USUBJID"].astype(str).to_numpy()
        return _edges(
            rec,
            _usubjid(frame),
            "record",
            "sdtm/DM",
            pos + 1,
            key,
            f"{where}: subject elements from DM dates",
        )
    return _edges(
        rec,
        _usubjid(frame),
        "spec",
        file,
        np.full(len(frame), int(line or 0)),
        "",
        f"{where}: {name} records",
    )


def sdtm_records(spec: StudySpec, sdtm: SdtmResult) -> dict[str, pd.DataFrame]:
    """Record lineage of every SDTM dataset, keyed by dataset name."""
    out: dict[str, pd.DataFrame] = {}
    for name in sorted(sdtm.data):
        frame = sdtm.data[name]
        if name.startswith("SUPP") and "RDOMAIN" in frame.columns:
            parts = [_supp_edges(spec, name, frame, sdtm.data)]
        elif name in sdtm.lineage:
            parts = [_raw_edges(spec, name, frame, sdtm.lineage[name])]
            if name in sdtm.derived_from:
                parts.append(_derived_edges(name, frame, sdtm.derived_from[name]))
            if name in sdtm.looked_up:
                parts.append(_lookup_edges(spec, name, frame, sdtm.looked_up[name]))
        else:
            parts = [_spec_edges(spec, name, frame, sdtm.data)]
        out[name] = _complete(f"sdtm/{name}", len(frame), pd.concat(parts, ignore_index=True))
    return out


def _complete(dataset: str, n: int, edges: pd.DataFrame) -> pd.DataFrame:
    """Sorted edges; every record has at least one source, and every source exists."""
    records = edges["record"].to_numpy(dtype="int64")
    covered = np.zeros(n + 1, dtype=bool)
    covered[records[(records >= 1) & (records <= n)]] = True
    missing = np.flatnonzero(~covered[1:]) + 1
    if len(missing):
        raise ReconciliationError(
            f"{dataset}: record {int(missing[0])} has no lineage "
            "(no raw row, source record or spec line)"
        )
    dangling = (edges["kind"] == "record") & (edges["row"] < 1)
    if dangling.any():
        rec = int(edges.loc[dangling, "record"].iloc[0])
        raise ReconciliationError(
            f"{dataset}: record {rec}: its source record "
            f"{edges.loc[dangling, 'source'].iloc[0]} "
            f"{edges.loc[dangling, 'key'].iloc[0]} does not exist"
        )
    return edges.sort_values(
        ["record", "kind", "source", "row", "key"], kind="stable", ignore_index=True
    )


# ---------------------------------------------------------------------------------- ADaM


def _adsl_edges(spec: SpecMap, frame: pd.DataFrame, sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    src = str(spec.get("source", "DM"))
    pos = _parent_positions(sdtm[src], frame["USUBJID"], None, None)
    key = "USUBJID=" + frame["USUBJID"].astype(str).to_numpy()
    where = spec.where("source") if "source" in spec else spec.where()
    return _edges(
        np.arange(len(frame)),
        _usubjid(frame),
        "record",
        f"sdtm/{src}",
        pos + 1,
        key,
        f"{where}: one record per {src} subject",
    )


def _parameter_steps(spec: SpecMap) -> dict[str, str]:
    """PARAMCD -> spec line of its declaration (a parameter, or a criterion's responder)."""
    steps: dict[str, str] = {}
    declared = spec.get("parameters")
    if isinstance(declared, list):
        steps = {
            str(p["PARAMCD"]): f"{p.where()}: parameter {p['PARAMCD']}"
            for p in declared
            if isinstance(p, SpecMap) and "PARAMCD" in p
        }
    for paramcd, crits in (spec.get("criteria") or {}).items():
        for c in crits if isinstance(crits, list) else []:
            resp = c.get("responder") if isinstance(c, SpecMap) else None
            if isinstance(resp, SpecMap) and "PARAMCD" in resp:
                steps[str(resp["PARAMCD"])] = (
                    f"{c.where()}: responder parameter "
                    f"{resp['PARAMCD']} from {paramcd} CRIT{c['CRIT']}"
                )
    return steps


def _linked(
    sel: np.ndarray, sub: pd.DataFrame, parent: pd.DataFrame, dom: str, seq: pd.Series, step
) -> pd.DataFrame:
    pos = _parent_positions(parent, sub["USUBJID"], f"{dom}SEQ", seq)
    key = f"{dom}SEQ=" + _seq_text(seq).to_numpy()
    return _edges(sel, _usubjid(sub), "record", f"sdtm/{dom}", pos + 1, key, step)


def _responder_edges(name: str, spec: SpecMap, frame: pd.DataFrame) -> pd.DataFrame | None:
    """A responder parameter's record comes from its parameter's primary analysis record."""
    source: dict[str, str] = {}
    for paramcd, crits in (spec.get("criteria") or {}).items():
        for c in crits if isinstance(crits, list) else []:
            resp = c.get("responder") if isinstance(c, SpecMap) else None
            if isinstance(resp, SpecMap) and "PARAMCD" in resp:
                source[str(resp["PARAMCD"])] = str(paramcd)
    if not source or not {"PARAMCD", "ANL01FL"} <= set(frame.columns):
        return None
    steps = _parameter_steps(spec)
    sel = np.flatnonzero(frame["PARAMCD"].astype(str).isin(list(source)).to_numpy())
    primary = (frame["ANL01FL"].astype(str) == "Y").to_numpy()
    table = (
        frame.loc[primary, ["USUBJID", "PARAMCD"]]
        .astype(str)
        .assign(_pos=np.flatnonzero(primary))
        .drop_duplicates(["USUBJID", "PARAMCD"])
    )
    sub = frame.iloc[sel]
    want = pd.DataFrame(
        {
            "USUBJID": sub["USUBJID"].astype(str).to_numpy(),
            "PARAMCD": sub["PARAMCD"].astype(str).map(source).to_numpy(),
        }
    )
    pos = want.merge(table, how="left", on=["USUBJID", "PARAMCD"])["_pos"]
    found = pos.notna().to_numpy()
    if not found.any():
        return None
    key = "PARAMCD=" + want["PARAMCD"].to_numpy()[found] + " ANL01FL=Y"
    step = _map(sub["PARAMCD"].astype(str), steps, spec.where())[found]
    return _edges(
        sel[found],
        _usubjid(sub)[found],
        "record",
        f"adam/{name}",
        pos.to_numpy()[found].astype("int64") + 1,
        key,
        step,
    )


def _analysis_edges(
    name: str, spec: SpecMap, frame: pd.DataFrame, sdtm: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """BDS / OCCDS records: SRCDOM + SRCSEQ (ADaMIG 1.3 3.3.9), else the source's --SEQ;
    a record imputed from baseline (DTYPE) comes from the ABLFL record; any other record
    was made by the dataset spec itself."""
    parts = []
    done = np.zeros(len(frame), dtype=bool)
    src = str(spec.get("source", ""))
    src_step = f"{spec.where('source')}: source {src}" if "source" in spec else spec.where()
    responders = _responder_edges(name, spec, frame)
    if responders is not None:
        parts.append(responders)
        done[responders["record"].to_numpy() - 1] = True
    if {"SRCDOM", "SRCSEQ"} <= set(frame.columns):
        srcdom = frame["SRCDOM"].astype(str)
        coll = ~done & (srcdom != "").to_numpy() & frame["SRCSEQ"].notna().to_numpy()
        params = _parameter_steps(spec)
        fallback = f"{spec.where('parameters')}: parameters" if "parameters" in spec else src_step
        for dom in sorted(d for d in srcdom[coll].unique() if d in sdtm):
            sel = np.flatnonzero(coll & (srcdom == dom).to_numpy())
            sub = frame.iloc[sel]
            step = (
                _map(sub["PARAMCD"].astype(str), params, fallback) if "PARAMCD" in sub else fallback
            )
            parts.append(_linked(sel, sub, sdtm[dom], dom, sub["SRCSEQ"], step))
            done[sel] = True
    elif src in sdtm and f"{src}SEQ" in frame.columns:
        sel = np.flatnonzero(frame[f"{src}SEQ"].notna().to_numpy())
        sub = frame.iloc[sel]
        parts.append(
            _linked(
                sel,
                sub,
                sdtm[src],
                src,
                sub[f"{src}SEQ"],
                f"{src_step}: one record per {src} record",
            )
        )
        done[sel] = True
    if not done.all() and {"ABLFL", "PARAMCD"} <= set(frame.columns):
        # a record imputed from baseline (DTYPE, e.g. BLOCF) comes from the ABLFL record
        base = frame[frame["ABLFL"].astype(str) == "Y"][["USUBJID", "PARAMCD"]].astype(str)
        base = base.assign(_pos=np.flatnonzero((frame["ABLFL"].astype(str) == "Y").to_numpy()))
        base = base.drop_duplicates(["USUBJID", "PARAMCD"])
        rest = np.flatnonzero(~done)
        sub = frame.iloc[rest]
        hit = (
            sub[["USUBJID", "PARAMCD"]]
            .astype(str)
            .merge(base, how="left", on=["USUBJID", "PARAMCD"])
        )
        pos = hit["_pos"].fillna(-1).to_numpy(dtype="int64")
        found = pos >= 0
        where = spec.where("primary") if "primary" in spec else spec.where()
        dtype = (
            sub["DTYPE"].astype(str).to_numpy()[found]
            if "DTYPE" in sub
            else np.full(int(found.sum()), "")
        )
        parts.append(
            _edges(
                rest[found],
                _usubjid(sub)[found],
                "record",
                f"adam/{name}",
                pos[found] + 1,
                "ABLFL=Y",
                np.char.add(f"{where}: imputed record, DTYPE=", np.asarray(dtype, dtype=str)),
            )
        )
        done[rest[found]] = True
    if not done.all():
        rest = np.flatnonzero(~done)
        file, _, line = spec.where().rpartition(":")
        parts.append(
            _edges(
                rest,
                _usubjid(frame)[rest],
                "spec",
                file,
                np.full(len(rest), int(line or 0)),
                "",
                f"{spec.where()}: record derived by the {name} spec",
            )
        )
    return pd.concat(parts, ignore_index=True)


def adam_records(
    spec: StudySpec, sdtm: dict[str, pd.DataFrame], adam: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Record lineage of every ADaM dataset: SDTM domain and --SEQ, or the baseline record."""
    out: dict[str, pd.DataFrame] = {}
    for name in sorted(adam):
        aspec = spec.adam[name]
        frame = adam[name]
        if str(aspec.get("structure")) == "ADSL":
            edges = _adsl_edges(aspec, frame, sdtm)
        else:
            edges = _analysis_edges(name, aspec, frame, sdtm)
        out[name] = _complete(f"adam/{name}", len(frame), edges)
    return out


# ---------------------------------------------------------------------------------- variables


def _sdtm_variables(spec: StudySpec, sdtm: SdtmResult) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    for name, dom in sorted(spec.domains.items()):
        for src in dom.sources:
            file = spec.forms[src.form].source
            rows += [(f"sdtm/{name}", file, var, p.cited()) for var, p in src.variables.items()]
        rows += [(f"sdtm/{name}", "*", var, p.cited()) for var, p in dom.variables.items()]
        for d in dom.derived:
            label = f"derived record '{d.get('name', '')}'"
            for var, value in (d.get("set") or {}).items():
                rows.append(
                    (
                        f"sdtm/{name}",
                        "derived",
                        var,
                        f"{d.where('set')}: {label}: {var}={'' if value is None else value}",
                    )
                )
            for var in d.get("result") or []:
                rows.append(
                    (
                        f"sdtm/{name}",
                        "derived",
                        str(var),
                        f"{d.where('formula')}: "
                        f"{label}: formula over {d.get('pivot')} {d.get('value')}",
                    )
                )
        supp = dom.supp or SpecMap()
        for qnam, q in supp.items():
            value = q.get("value") if isinstance(q, SpecMap) else None
            text = value.cited() if isinstance(value, SpecMap) else supp.where(qnam)
            rows.append((f"sdtm/SUPP{name}", "*", f"QVAL[{qnam}]", text))
    td = spec.trial_design or SpecMap()
    for name in sorted(td):
        if f"{name}" in sdtm.data and isinstance(td[name], SpecMap):
            rows.append((f"sdtm/{name}", "*", "*", f"{td[name].where()}: {name}"))
    return rows


def _adam_variables(meta: dict[str, Dataset]) -> list[tuple[str, str, str, str]]:
    """The spec line of each ADaM variable, as its builder's description records it."""
    return [
        (f"adam/{name}", "*", v.name, v.spec_line or "")
        for name, ds in sorted(meta.items())
        for v in ds.variables
    ]


def variable_specs(
    spec: StudySpec, sdtm: SdtmResult, adam_meta: dict[str, Dataset]
) -> pd.DataFrame:
    """The spec line that mapped each variable, per dataset and source file ('*' = all)."""
    rows = _sdtm_variables(spec, sdtm) + _adam_variables(adam_meta)
    return pd.DataFrame(rows, columns=list(VARIABLE_COLUMNS))


# ---------------------------------------------------------------------------------- files


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    make_folder(path.parent)
    write_text(path, csv_text(frame))


def write_lineage(
    folder: Path, spec: StudySpec, sdtm: SdtmResult, adam: dict[str, pd.DataFrame], adam_meta: dict
) -> dict[str, pd.DataFrame]:
    """Write ``folder``/sdtm/*.csv, adam/*.csv and variables.csv; return the record tables."""
    tables = {f"sdtm/{k}": v for k, v in sdtm_records(spec, sdtm).items()}
    tables.update({f"adam/{k}": v for k, v in adam_records(spec, sdtm.data, adam).items()})
    for key, frame in tables.items():
        part, name = key.split("/")
        _write_csv(folder / part / f"{name.lower()}.csv", frame)
    _write_csv(folder / "variables.csv", variable_specs(spec, sdtm, adam_meta))
    return tables


def read_records(out_dir: Path, dataset: str) -> pd.DataFrame:
    """The record lineage of ``dataset`` ('sdtm/QS', 'adam/ADQS') from a run's output folder."""
    part, _, name = dataset.partition("/")
    path = Path(out_dir) / FOLDER / part / f"{name.lower()}.csv"
    if not path.is_file():
        raise InputError(f"{path}: no lineage for {dataset} (not a cdisc-umsc output folder?)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    if list(frame.columns) != list(RECORD_COLUMNS):
        raise InputError(f"{path}: expected columns {', '.join(RECORD_COLUMNS)}")
    for col in ("record", "row"):
        frame[col] = pd.to_numeric(frame[col], errors="raise").astype("int64")
    return frame


def read_variables(out_dir: Path) -> pd.DataFrame:
    """The variable spec lines of a run's output folder."""
    path = Path(out_dir) / FOLDER / "variables.csv"
    if not path.is_file():
        raise InputError(f"{path}: no variable lineage (not a cdisc-umsc output folder?)")
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
