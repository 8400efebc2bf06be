"""A define.xml for a folder of datasets that comes without a spec (another sponsor's study).

Names, labels, types, lengths and keys come from the files (Dataset-JSON carries keys); core,
role, class and codelists from the bundled IG the define names (``--ig``), a dataset outside
it from the SDTM model or its general-class topic variable, else from the caller
(``--class NAME=CLASS``) or one line saying so. Keys the files do not carry come from the
IG's rules for keys (SDTMIG 3.4 section 3.2.1.1: --SEQ makes a subject's records unique;
section 8.4.2 for SUPP--), checked unique on the data. Origins are what the standard itself
says (trial design is Protocol, DOMAIN and the SUPP-- qualifiers are Assigned, --SEQ and
--DY are Derived by their IG definitions, a variable carried from ADSL is its Predecessor);
for the rest, the data cannot tell, so SDTM values are taken as Collected and ADaM values as
Not Available. The links (def:leaf) name the files in the folder.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError, UmscError, WriteError
from cdisc_umsc.core.xmlsafe import parse_xml
from cdisc_umsc.metadata import standards as S
from cdisc_umsc.metadata.model import Dataset, Study, Variable
from cdisc_umsc.metadata.resolve import with_value_types

#: Topic variables of the general observation classes (SDTM 2.0 model), by class
TOPICS = (("--TRT", "INTERVENTIONS"), ("--TERM", "EVENTS"), ("--TESTCD", "FINDINGS"))
#: SDTMIG 3.4 section 8.4.2 / 8.2.1: keys of SUPP-- and RELREC
SUPP_KEYS = ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM")
RELREC_KEYS = ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "RELID")
#: variables a BDS or OCCDS record is usually keyed by, in key order
ADAM_KEYS = ("STUDYID", "USUBJID", "PARAMCD", "AVISITN", "ATPTN", "ADT", "ADTM", "ASEQ")
#: the SDTM qualifier variables the sponsor assigns (SDTMIG 3.4 section 8.4.1)
SUPP_ASSIGNED = ("RDOMAIN", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QORIG", "QEVAL")


def _created(files: dict[str, Path]) -> str:
    """The latest creation time written in the dataset files (deterministic, not the clock)."""
    import pyreadstat

    stamps = []
    for path in files.values():
        if path.suffix.lower() == ".xpt":
            stamp = pyreadstat.read_xport(path, metadataonly=True)[1].creation_time
            if stamp is not None:
                stamps.append(stamp.isoformat(timespec="seconds"))
        else:
            with path.open(encoding="utf-8") as fh:
                head = json.loads(fh.readline() if path.suffix.lower() == ".ndjson" else fh.read())
            written = str(head.get("datasetJSONCreationDateTime", ""))[:19]
            if written:
                stamps.append(datetime.fromisoformat(written).isoformat(timespec="seconds"))
    if not stamps:
        raise InputError("no creation time in the dataset files; give --created")
    return max(stamps)


def _class_of(name: str, frame: pd.DataFrame, given: dict[str, str]) -> str:
    """The class of a dataset the IG does not tabulate: as given, from the SDTM model's
    datasets, else from its general-class topic variable; one line when none tells."""
    if name in given:
        return given[name]
    model = S.model_datasets()
    hit = model.loc[model["dataset"] == name, "cls"]
    if len(hit):
        return str(hit.iloc[0])
    found = [cls for topic, cls in TOPICS if topic.replace("--", name[:2]) in frame.columns]
    if len(found) == 1:
        return found[0]
    raise InputError(
        f"dataset {name}: not in the implementation guide nor the SDTM model, and no topic "
        f"variable ({', '.join(t.replace('--', name[:2]) for t, _ in TOPICS)}) tells its "
        f"class; give it with --class {name}=<class>"
    )


def _adam_class(frame: pd.DataFrame) -> str:
    """The class of an analysis dataset that is neither ADSL nor BDS: an occurrence dataset
    when it carries an events or interventions topic (--TERM, --DECOD, --TRT), else ADAM OTHER."""
    topics = ("TERM", "DECOD", "TRT")
    if any(len(c) == len(t) + 2 and c.endswith(t) for c in frame.columns for t in topics):
        return "OCCURRENCE DATA STRUCTURE"
    return "ADAM OTHER"


def _unique(frame: pd.DataFrame, keys: list[str]) -> bool:
    return bool(keys) and not frame.duplicated(keys).any()


def natural_keys(
    name: str, frame: pd.DataFrame, own: tuple[str, ...], structure: str = ""
) -> tuple[str, ...]:
    """Key variables: the file's own (Dataset-JSON keySequence), else by the IG's rules,
    checked unique on the data; () when no rule gives unique keys."""
    cols = list(frame.columns)
    if own and all(k in cols for k in own):
        return own
    if name.startswith("SUPP"):
        return SUPP_KEYS if all(k in cols for k in SUPP_KEYS) else ()
    if name == "RELREC":
        return RELREC_KEYS if all(k in cols for k in RELREC_KEYS) else ()
    base: list[str] = [k for k in ("STUDYID", "USUBJID") if k in cols]
    if "USUBJID" in cols:
        per_subject = structure.strip(". ").lower() == "one record per subject"
        if (per_subject or name == "ADSL") and _unique(frame, base):
            return tuple(base)
        seq = f"{name[:2]}SEQ" if f"{name[:2]}SEQ" in cols else None
        if seq and _unique(frame, [*base, seq]):
            return (*base, seq)
    parm, seq = f"{name[:2]}PARMCD", f"{name[:2]}SEQ"
    if parm in cols and seq in cols and _unique(frame, [*base, parm, seq]):
        # SDTMIG 3.4 section 7.6.1 (TS): --SEQ numbers the values of one parameter
        return (*base, parm, seq)
    preferred = [c for c in ADAM_KEYS if c in cols and c not in base]
    keys = list(base)
    groups = len(frame.drop_duplicates(keys)) if keys else 1
    for col in [*preferred, *(c for c in cols if c not in preferred and c != "DOMAIN")]:
        if _unique(frame, keys):
            break
        if col in keys:
            continue
        more = len(frame.drop_duplicates([*keys, col]))
        if more > groups:
            keys.append(col)
            groups = more
    return tuple(keys) if _unique(frame, keys) else ()


def _seq_method() -> str:
    from cdisc_umsc.sdtm.algorithms import method_text

    return method_text("seq", {"seq": True}, "SEQ")


def _day_method(dtc: str, var: str) -> str:
    from cdisc_umsc.sdtm.algorithms import method_text

    return method_text("study_day", {"study_day": dtc}, var)


def _sdtm_origin(ds: Dataset, var: Variable, cols: list[str]) -> Variable:
    """What the SDTM standard itself says of a variable's origin."""
    prefix = ds.name[:2]
    if var.name in ("DOMAIN", "RDOMAIN", "USUBJID", "STUDYID") or (
        ds.name.startswith("SUPP") and var.name in SUPP_ASSIGNED
    ):
        return dataclasses.replace(var, origin="Assigned")
    if ds.cls.upper().replace("-", " ") == "TRIAL DESIGN":
        return dataclasses.replace(var, origin="Protocol")
    if var.name == f"{prefix}SEQ" and "USUBJID" in cols:
        return dataclasses.replace(var, origin="Derived", method=_seq_method())
    for suffix, date in (("DY", "DTC"), ("STDY", "STDTC"), ("ENDY", "ENDTC")):
        dtc = var.name[: -len(suffix)] + date
        if var.name.endswith(suffix) and var.type == "Num" and dtc in cols:
            return dataclasses.replace(var, origin="Derived", method=_day_method(dtc, var.name))
    return var


def _adam_origin(ds: Dataset, var: Variable, adsl: Dataset | None) -> Variable:
    """A variable of ADSL carried into another analysis dataset is its Predecessor; for
    the rest the data cannot say how it was derived."""
    if ds.name != "ADSL" and adsl is not None and adsl.has(var.name):
        return dataclasses.replace(var, origin="Predecessor", source=f"ADSL.{var.name}")
    return dataclasses.replace(var, origin="Not Available")


def folder_study(
    frames: dict[str, pd.DataFrame],
    described: dict[str, Dataset],
    purpose: str,
    created: str,
    *,
    ig: str | None = None,
    ct: str | None = None,
    classes: dict[str, str] | None = None,
) -> Study:
    """The Study a define of `frames` describes (bundled IG merged with the files' own)."""
    from cdisc_umsc.validate.igmeta import study_from_ig

    want = "ADaMIG" if purpose == "Analysis" else "SDTMIG"
    settings = {"adam" if want == "ADaMIG" else "sdtm": ig} if ig else {}
    if ct:
        settings["ct"] = ct
    in_use = S.resolve_in_use(settings, where="--ig/--ct")
    version = in_use.adamig if want == "ADaMIG" else in_use.sdtmig
    ids = sorted(
        {str(f["STUDYID"].iloc[0]) for f in frames.values() if "STUDYID" in f.columns and len(f)}
    )
    if len(ids) > 1:
        raise InputError(f"datasets of more than one study: STUDYID {', '.join(ids)}")
    study = study_from_ig(frames, described, ids[0] if ids else "")
    classes = {k.upper(): v for k, v in (classes or {}).items()}
    unknown = sorted(set(classes) - set(study.datasets))
    if unknown:
        raise InputError(f"--class {unknown[0]}: no dataset {unknown[0]} in the folder")
    datasets = {}
    for name, ds in study.datasets.items():
        if ds.standard != want:
            raise InputError(
                f"dataset {name}: is {ds.standard} data, not {want} "
                f"(use --{'adam' if want == 'SDTMIG' else 'sdtm'})"
            )
        own = described.get(name)
        frame = frames[name]
        cls = classes.get(name) or ds.cls
        if not cls and purpose == "Analysis":
            # ADaMIG 1.3 section 1.6: neither ADSL nor BDS is OCCDS when it carries the topic
            # of an SDTM events or interventions domain (ADaM OCCDS v1.1), else "ADAM OTHER"
            cls = _adam_class(frame)
        elif not cls:
            cls = _class_of(name, frame, classes)
        label = ds.label or (own.label if own else "")
        if not label:
            model = S.model_datasets()
            hit = model.loc[model["dataset"] == name, "label"]
            label = str(hit.iloc[0]) if len(hit) else name
        structure = _structure(name, ds.structure)
        keys = natural_keys(name, frame, own.keys if own else (), structure)
        variables = tuple(
            dataclasses.replace(
                v,
                data_type="" if v.type == "Num" else v.data_type,  # measured by the writer
                key_sequence=keys.index(v.name) + 1 if v.name in keys else None,
            )
            for v in ds.variables
        )
        datasets[name] = dataclasses.replace(
            ds,
            variables=variables,
            cls=cls,
            label=label,
            structure=structure,
            standard=f"{want} {version}",
            keys=keys,
            parent=name[4:] if name.startswith("SUPP") else None,
        )
    adsl = datasets.get("ADSL")
    for name, ds in datasets.items():
        cols = list(frames[name].columns)
        if purpose == "Analysis":
            variables = tuple(_adam_origin(ds, v, adsl) for v in ds.variables)
        else:
            variables = tuple(_sdtm_origin(ds, v, cols) for v in ds.variables)
        datasets[name] = with_value_types(
            dataclasses.replace(ds, variables=variables), frames[name]
        )
    return dataclasses.replace(
        study,
        standard=want,
        standard_version=version,
        ct_version=in_use.sdtm_ct,
        datasets=datasets,
        created=created,
    )


def _structure(name: str, from_ig: str) -> str:
    """The IG's structure of the dataset (SUPP-- from SUPPQUAL); "" lets the writer describe
    it by its keys."""
    if from_ig:
        return from_ig
    table = S.ig_datasets("SDTMIG", S.versions()["SDTMIG"])
    ig_name = "SUPPQUAL" if name.startswith("SUPP") else name
    hit = table.loc[table["dataset"] == ig_name, "structure"]
    return str(hit.iloc[0]) if len(hit) else ""


def _own_define(path: Path) -> bool:
    """Whether ``path`` is a define.xml this tool wrote (ODM SourceSystem)."""
    try:
        root = parse_xml(path).getroot()
    except UmscError:
        return False
    return root.get("SourceSystem") == "cdisc-umsc"


def check_define_target(folder: Path, force: bool = False) -> None:
    """Refuse (one line) to replace a define.xml or define.html this tool did not write."""
    xml, html = Path(folder) / "define.xml", Path(folder) / "define.html"
    own = xml.is_file() and _own_define(xml)
    for path in (xml, html):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise WriteError(f"{path}: exists and is not a file; it is left untouched")
        if path.exists() and not own and not force:
            raise WriteError(
                f"{path}: was not written by cdisc-umsc; it is left untouched "
                "(use --force to replace it)"
            )


def _reading_notes(issues: pd.DataFrame) -> list[str]:
    """A file the folder reader could not read stops the define (it would leave a dataset
    out); text not valid in the encoding is read as Windows-1252 and said once per variable."""
    unreadable = issues[issues["rule"] == "UMSC-FI0002"]
    if len(unreadable):
        raise InputError(str(unreadable["message"].iloc[0]))
    out = []
    for (_ds, _var), group in issues.groupby(["dataset", "variable"], sort=False):
        more = len(group) - 1
        tail = f" (and {more} more value(s) of that variable)" if more else ""
        out.append(f"{group['message'].iloc[0]}{tail}; read as Windows-1252 (give --encoding)")
    return out


def write_folder_define(
    folder: Path,
    purpose: str,
    *,
    encoding: str = "ascii",
    created: str | None = None,
    ig: str | None = None,
    ct: str | None = None,
    classes: dict[str, str] | None = None,
    force: bool = False,
    notes: list[str] | None = None,
    check: Callable[[dict[str, pd.DataFrame]], object] | None = None,
) -> Path:
    """Write folder/define.xml (+ define.html and the stylesheet) for the datasets of
    `folder`; returns the path. Values outside a non-extensible codelist are left out of it
    and described in ``notes`` (with the folder's own notes). ``check`` sees the datasets
    before anything is written and raises to refuse them (the command passes the PHI guard:
    define.xml lists values, and none may be a direct identifier)."""
    from cdisc_umsc.validate.folder import read_folder
    from cdisc_umsc.write.define import build_define, validate_define, write_define
    from cdisc_umsc.write.submission import value_lists

    target = Path(folder) / "define.xml"
    check_define_target(folder, force)
    data = read_folder(folder, encoding=encoding)
    if check is not None:
        check(data.frames)
    notes = notes if notes is not None else []
    notes.extend(data.notes)
    notes.extend(_reading_notes(data.read_issues()))
    stamp = created or _created(data.files)
    study = folder_study(data.frames, data.described, purpose, stamp, ig=ig, ct=ct, classes=classes)
    tree = build_define(
        study,
        data.frames,
        purpose=purpose,  # type: ignore[arg-type]
        value_lists=value_lists(study.datasets),
        files={name: path.name for name, path in data.files.items()},
        findings=notes,
    )
    problems = validate_define(tree)
    if problems:
        raise WriteError(f"{folder}/define.xml would not be valid Define-XML 2.1: {problems[0]}")
    write_define(target, tree, html_path=Path(folder) / "define.html", notes=notes)
    return target
