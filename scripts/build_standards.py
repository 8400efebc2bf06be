"""Build the bundled CDISC standards files in cdisc_umsc/standards/data/ from ../shared.

Usage: .venv/bin/python scripts/build_standards.py [--shared ../shared] [--out DIR]

Reads SDTMIG 3.4, ADaMIG 1.3, the SDTM 2.0 model and three CDISC Controlled Terminology
packages; validates them; writes compact sorted CSV files (CT as gzip with mtime 0) plus a
manifest.json naming every source file and its sha256. Output bytes depend only on the inputs.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import pickle
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
DEFAULT_OUT = REPO / "cdisc_umsc" / "standards" / "data"

SDTMIG_DIR = "reference/standards/sdtmig-3.4"
ADAMIG_DIR = "reference/standards/adamig-1.3"
MODEL_DIR = "tools/core/meta_src"
CT_DIR = "reference/ct"

CT_COLUMNS = {
    "Code": "code",
    "Codelist Code": "codelist",
    "Codelist Extensible (Yes/No)": "extensible",
    "Codelist Name": "name",
    "CDISC Submission Value": "submission_value",
    "CDISC Synonym(s)": "synonyms",
    "NCI Preferred Term": "preferred_term",
}
C_CODE = r"C\d+"


class SourceError(ValueError):
    """A reference file does not have the content this build expects."""


@dataclass(frozen=True)
class Output:
    """One generated data file."""

    role: str
    file: str
    frame: pd.DataFrame
    gz: bool = False
    #: Written as JSON instead of the frame (the frame then only counts the rows).
    payload: object = None


# --------------------------------------------------------------------------- reading / checks


def read_source(path: Path, columns: list[str], sep: str = ",") -> pd.DataFrame:
    """Read a CSV (or tab file) as all-text, BOM-tolerant, requiring the named columns."""
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    quoting = csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL
    try:
        frame = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding="utf-8-sig",
            quoting=quoting,
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot parse: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SourceError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    return frame[columns].astype(str)


def check(frame: pd.DataFrame, bad: pd.Series, path: Path, column: str, expected: str) -> None:
    """Raise on the first row flagged in `bad` (row numbers count the header as line 1)."""
    if bad.any():
        pos = int(bad.to_numpy().nonzero()[0][0])
        value = frame[column].iloc[pos]
        raise SourceError(
            f"{path}: line {pos + 2}: column {column!r}: expected {expected}, got {value!r}"
        )


def clean(series: pd.Series) -> pd.Series:
    """Turn literal '\\n' sequences into spaces, collapse whitespace, strip (IG/model text)."""
    text = series.str.replace(r"\\n", " ", regex=True)
    return text.str.replace(r"\s+", " ", regex=True).str.strip()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- SDTMIG 3.4

#: Natural keys of the datasets whose IG structure statement names them one to one
#: (SDTMIG 3.4 3.2.1.1: the structure is "one record per ..."; the keys are the variables
#: that identify that "per"). Each entry is checked against the IG: the structure text must be
#: the one the keys were read from, and every key a variable of the dataset.
IG_KEYS = {
    "DM": ("One record per subject", "STUDYID USUBJID"),
    "SE": ("One record per actual Element per subject", "STUDYID USUBJID ETCD SESTDTC"),
    "SM": ("One record per Disease Milestone per subject", "STUDYID USUBJID MIDS"),
    "SV": ("One record per actual or planned visit per subject", "STUDYID USUBJID VISITNUM"),
    "TA": ("One record per planned Element per Arm", "STUDYID ARMCD TAETORD"),
    "TE": ("One record per planned Element", "STUDYID ETCD"),
    "TI": ("One record per I/E criterion", "STUDYID IETESTCD"),
    "TM": ("One record per Disease Milestone type", "STUDYID MIDSTYPE"),
    "TS": ("One record per trial summary parameter value", "STUDYID TSPARMCD TSSEQ"),
    "TV": ("One record per planned Visit per Arm", "STUDYID ARMCD VISITNUM"),
    "SUPPQUAL": (
        "One record per supplemental qualifier per related parent domain record(s)",
        "STUDYID RDOMAIN USUBJID IDVAR IDVARVAL QNAM",
    ),
}


def ig_keys(datasets: pd.DataFrame, variables: pd.DataFrame, path: Path) -> pd.Series:
    """The `keys` column of the datasets table (space separated; '' where not stated)."""
    keys = pd.Series("", index=datasets.index, dtype=object)
    for name, (structure, names) in IG_KEYS.items():
        row = datasets.index[datasets["dataset"] == name]
        if len(row) != 1 or datasets.loc[row[0], "structure"] != structure:
            raise SourceError(f"{path}: dataset {name}: expected the structure {structure!r}")
        have = set(variables.loc[variables["dataset"] == name, "variable"])
        missing = [k for k in names.split() if k not in have]
        if missing:
            raise SourceError(f"{path}: dataset {name}: key variables {missing} are not in it")
        keys[row[0]] = names
    return keys


def build_sdtmig(shared: Path) -> list[Output]:
    """SDTMIG v3.4 datasets and variables."""
    dpath, vpath = shared / SDTMIG_DIR / "Datasets.csv", shared / SDTMIG_DIR / "Variables.csv"
    d = read_source(dpath, ["Version", "Class", "Dataset Name", "Dataset Label", "Structure"])
    check(d, d["Version"] != "SDTMIG v3.4", dpath, "Version", "'SDTMIG v3.4'")
    check(
        d,
        ~d["Dataset Name"].str.fullmatch(r"[A-Z][A-Z0-9]{1,7}"),
        dpath,
        "Dataset Name",
        "a dataset name",
    )
    check(d, d["Dataset Name"].duplicated(), dpath, "Dataset Name", "a unique dataset name")
    datasets = pd.DataFrame(
        {
            "dataset": d["Dataset Name"],
            "label": clean(d["Dataset Label"]),
            "cls": clean(d["Class"]),
            "structure": clean(d["Structure"]),
        }
    ).sort_values("dataset", kind="stable")

    cols = [
        "Version",
        "Variable Order",
        "Class",
        "Dataset Name",
        "Variable Name",
        "Variable Label",
        "Type",
        "CDISC CT Codelist Code(s)",
        "Codelist Submission Values",
        "Described Value Domain(s)",
        "Value List",
        "Role",
        "Core",
    ]
    v = read_source(vpath, cols)
    check(v, v["Version"] != "SDTMIG v3.4", vpath, "Version", "'SDTMIG v3.4'")
    check(v, ~v["Variable Order"].str.fullmatch(r"\d+"), vpath, "Variable Order", "an integer")
    check(
        v,
        ~v["Dataset Name"].isin(datasets["dataset"]),
        vpath,
        "Dataset Name",
        "a dataset listed in Datasets.csv",
    )
    check(
        v,
        ~v["Variable Name"].str.fullmatch(r"[A-Z][A-Z0-9]{0,7}"),
        vpath,
        "Variable Name",
        "a SAS V5 variable name",
    )
    check(
        v,
        v.duplicated(["Dataset Name", "Variable Name"]),
        vpath,
        "Variable Name",
        "a variable name unique within its dataset",
    )
    check(v, ~v["Type"].isin(["Char", "Num"]), vpath, "Type", "Char or Num")
    check(v, ~v["Core"].isin(["Req", "Exp", "Perm"]), vpath, "Core", "Req, Exp or Perm")
    codes = v["CDISC CT Codelist Code(s)"].str.strip()
    check(
        v,
        ~codes.str.fullmatch(rf"(?:{C_CODE}(?:; {C_CODE})*)?"),
        vpath,
        "CDISC CT Codelist Code(s)",
        "C-codes separated by '; '",
    )
    variables = pd.DataFrame(
        {
            "dataset": v["Dataset Name"],
            "order": v["Variable Order"].astype(int),
            "variable": v["Variable Name"],
            "label": clean(v["Variable Label"]),
            "type": v["Type"],
            "codelist": codes.str.split(";").str[0].str.strip(),
            "codelists": codes,
            "codelist_values": clean(v["Codelist Submission Values"]),
            "core": v["Core"],
            "role": clean(v["Role"]),
            "cls": clean(v["Class"]),
            "described_value_domain": clean(v["Described Value Domain(s)"]),
            "value_list": clean(v["Value List"]),
        }
    ).sort_values(["dataset", "order"], kind="stable")
    check(
        variables,
        variables.duplicated(["dataset", "order"]),
        vpath,
        "order",
        "a variable order unique within its dataset",
    )
    datasets["keys"] = ig_keys(datasets, variables, dpath)
    return [
        Output("datasets", "sdtmig-3.4.datasets.csv", datasets),
        Output("variables", "sdtmig-3.4.variables.csv", variables),
    ]


# --------------------------------------------------------------------------- ADaMIG 1.3


def build_adamig(shared: Path) -> list[Output]:
    """ADaMIG v1.3 data structures and variables (long structure names mapped to short)."""
    dpath, vpath = shared / ADAMIG_DIR / "DataStructures.csv", shared / ADAMIG_DIR / "Variables.csv"
    d = read_source(
        dpath,
        [
            "Version",
            "Data Structure Name",
            "Data Structure Description",
            "Class",
            "Subclass",
            "CDISC Notes",
        ],
    )
    check(d, d["Version"] != "ADaMIG v1.3", dpath, "Version", "'ADaMIG v1.3'")
    check(d, d["Data Structure Name"].duplicated(), dpath, "Data Structure Name", "a unique name")
    datasets = pd.DataFrame(
        {
            "dataset": d["Data Structure Name"],
            "label": clean(d["Data Structure Description"]),
            "cls": clean(d["Class"]),
            "subclass": clean(d["Subclass"]),
            "structure": clean(d["CDISC Notes"]),
        }
    ).sort_values("dataset", kind="stable")

    cols = [
        "Version",
        "Data Structure Name",
        "Variable Set",
        "Variable Name",
        "Variable Label",
        "Type",
        "CDISC CT Codelist Code(s)",
        "CDISC CT Codelist Submission Value(s)",
        "Described Value Domain(s)",
        "Value List Value",
        "Core",
    ]
    v = read_source(vpath, cols)
    check(v, v["Version"] != "ADaMIG v1.3", vpath, "Version", "'ADaMIG v1.3'")
    # Variables.csv names a structure by its description ("Subject-Level Analysis Dataset"),
    # DataStructures.csv by short name (ADSL) with description "... Dataset Structure".
    long_to_short = {}
    for short, label in zip(datasets["dataset"], datasets["label"], strict=True):
        long_to_short[label] = short
        long_to_short[re.sub(r" Structure$", "", label)] = short
    short = v["Data Structure Name"].map(long_to_short)
    check(
        v,
        short.isna(),
        vpath,
        "Data Structure Name",
        f"one of the structures in DataStructures.csv {sorted(long_to_short)}",
    )
    check(
        v,
        ~v["Variable Name"].str.fullmatch(r"\*?[A-Za-z][A-Za-z0-9]{0,7}"),
        vpath,
        "Variable Name",
        "a variable name or template",
    )
    check(
        v,
        v.duplicated(["Data Structure Name", "Variable Name"]),
        vpath,
        "Variable Name",
        "a variable name unique within its structure",
    )
    check(v, ~v["Type"].isin(["Char", "Num"]), vpath, "Type", "Char or Num")
    check(v, ~v["Core"].isin(["Req", "Cond", "Perm"]), vpath, "Core", "Req, Cond or Perm")
    codes = v["CDISC CT Codelist Code(s)"].str.strip()
    check(
        v,
        ~codes.str.fullmatch(rf"(?:{C_CODE}(?:; {C_CODE})*)?"),
        vpath,
        "CDISC CT Codelist Code(s)",
        "C-codes separated by '; '",
    )
    cls = short.map(dict(zip(datasets["dataset"], datasets["cls"], strict=True)))
    variables = pd.DataFrame(
        {
            "dataset": short.astype(str),
            "order": v.groupby(short, sort=False).cumcount() + 1,
            "variable": v["Variable Name"],
            "label": clean(v["Variable Label"]),
            "type": v["Type"],
            "codelist": codes.str.split(";").str[0].str.strip(),
            "codelists": codes,
            "codelist_values": clean(v["CDISC CT Codelist Submission Value(s)"]),
            "core": v["Core"],
            "role": "",
            "cls": cls.astype(str),
            "described_value_domain": clean(v["Described Value Domain(s)"]),
            "value_list": clean(v["Value List Value"]),
            "variable_set": clean(v["Variable Set"]),
        }
    ).sort_values(["dataset", "order"], kind="stable")
    return [
        Output("datasets", "adamig-1.3.datasets.csv", datasets),
        Output("variables", "adamig-1.3.variables.csv", variables),
    ]


# --------------------------------------------------------------------------- SDTM 2.0 model

_DOMAIN_LIST = re.compile(r"\b[A-Z]{2}\b")


def parse_usage(text: str) -> tuple[str, str, str, str]:
    """Usage Restrictions text -> (only_domains, not_domains, not_classes, scope).

    scope is 'all', 'clinical' (not in nonclinical trials) or 'nonclinical'
    (not in human clinical trials). Domain/class lists are space separated.
    """
    only, not_dom, not_cls, scope = [], [], [], "all"
    for clause in (c.strip() for c in text.split(";") if c.strip()):
        if re.fullmatch(r"Not in human clinical trials", clause):
            scope = "nonclinical"
        elif re.fullmatch(r"Not in nonclinical trials", clause):
            scope = "clinical"
        elif m := re.fullmatch(
            r"((?:[A-Z]{2}, )*(?:[A-Z]{2},? and )?[A-Z]{2}) [Dd]omains? only", clause
        ):
            only += _DOMAIN_LIST.findall(m.group(1))
        elif m := re.fullmatch(
            r"Only in Findings class specimen-based domains: ([A-Z, ]+)", clause
        ):
            only += _DOMAIN_LIST.findall(m.group(1))
        elif m := re.fullmatch(r"Not in ([A-Z]{2}) domain", clause):
            not_dom.append(m.group(1))
        elif m := re.fullmatch(r"Not in (\w+) class domains", clause):
            not_cls.append(m.group(1).upper())
        elif m := re.fullmatch(
            r"Not in ((?:[A-Z]{2}, )*[A-Z]{2}),? and clinical classifications use case of RS",
            clause,
        ):
            # The RS part depends on the RS use case, which the model cannot tell apart.
            not_dom += _DOMAIN_LIST.findall(m.group(1))
        else:
            raise ValueError(clause)
    return " ".join(sorted(only)), " ".join(sorted(not_dom)), " ".join(sorted(not_cls)), scope


def build_model(shared: Path) -> list[Output]:
    """SDTM v2.0 model: class-level and dataset-level variables with parsed usage rules."""
    dpath = shared / MODEL_DIR / "sdtm_v2.0_Datasets.csv"
    vpath = shared / MODEL_DIR / "sdtm_v2.0_Variables.csv"
    d = read_source(dpath, ["Version", "Class", "Dataset Name", "Dataset Label", "Structure"])
    check(d, d["Version"] != "SDTM v2.0", dpath, "Version", "'SDTM v2.0'")
    datasets = pd.DataFrame(
        {
            "dataset": d["Dataset Name"],
            "label": clean(d["Dataset Label"]),
            "cls": clean(d["Class"]),
            "structure": clean(d["Structure"]),
        }
    ).sort_values("dataset", kind="stable")
    cols = [
        "Version",
        "Variable Order",
        "Class",
        "Dataset Name",
        "Variable Name",
        "Variable Label",
        "Type",
        "Described Value Domain",
        "Role",
        "Usage Restrictions",
    ]
    v = read_source(vpath, cols)
    check(v, v["Version"] != "SDTM v2.0", vpath, "Version", "'SDTM v2.0'")
    check(v, ~v["Variable Order"].str.fullmatch(r"\d+"), vpath, "Variable Order", "an integer")
    check(
        v,
        ~v["Variable Name"].str.fullmatch(r"(?:--)?[A-Z][A-Z0-9]{0,7}"),
        vpath,
        "Variable Name",
        "a variable name, optionally with a '--' prefix",
    )
    check(v, ~v["Type"].isin(["Char", "Num"]), vpath, "Type", "Char or Num")
    check(
        v,
        v.duplicated(["Class", "Dataset Name", "Variable Name"]),
        vpath,
        "Variable Name",
        "a variable unique within its class/dataset",
    )
    usage = clean(v["Usage Restrictions"])
    parsed: dict[str, tuple[str, str, str, str]] = {}
    for text in sorted(set(usage)):  # a dozen distinct phrases, not data rows
        try:
            parsed[text] = parse_usage(text)
        except ValueError as exc:
            check(
                v,
                usage == text,
                vpath,
                "Usage Restrictions",
                f"a known restriction phrase (clause {exc} not understood)",
            )
    rules = (
        pd.DataFrame.from_dict(
            parsed, orient="index", columns=["only_domains", "not_domains", "not_classes", "scope"]
        )
        .reindex(usage)
        .set_axis(v.index)
    )
    variables = (
        pd.DataFrame(
            {
                "cls": clean(v["Class"]),
                "dataset": v["Dataset Name"],
                "order": v["Variable Order"].astype(int),
                "variable": v["Variable Name"],
                "label": clean(v["Variable Label"]),
                "type": v["Type"],
                "role": clean(v["Role"]),
                "described_value_domain": clean(v["Described Value Domain"]),
                "usage": usage,
            }
        )
        .join(rules)
        .sort_values(["cls", "dataset", "order", "variable"], kind="stable")
    )
    return [
        Output("datasets", "sdtm-2.0.datasets.csv", datasets),
        Output("variables", "sdtm-2.0.variables.csv", variables),
    ]


# --------------------------------------------------------------------------- CT


def build_ct(path: Path, sep: str, file: str) -> list[Output]:
    """One CT package: codelist rows (code empty) and term rows; definitions dropped."""
    t = read_source(path, list(CT_COLUMNS), sep=sep).rename(columns=CT_COLUMNS)
    header = t["codelist"] == ""
    check(t, ~t["code"].str.fullmatch(C_CODE), path, "Code", "an NCI C-code")
    check(
        t,
        ~(header | t["codelist"].str.fullmatch(C_CODE)),
        path,
        "Codelist Code",
        "an NCI C-code or empty",
    )
    check(
        t,
        header & ~t["extensible"].isin(["Yes", "No"]),
        path,
        "Codelist Extensible (Yes/No)",
        "Yes or No on a codelist row",
    )
    check(
        t,
        ~header & (t["extensible"] != ""),
        path,
        "Codelist Extensible (Yes/No)",
        "empty on a term row",
    )
    check(t, t["submission_value"] == "", path, "CDISC Submission Value", "a non-empty value")
    check(
        t,
        header & t["code"].where(header).duplicated(),
        path,
        "Code",
        "a codelist code listed once",
    )
    check(
        t,
        ~header & ~t["codelist"].isin(t.loc[header, "code"]),
        path,
        "Codelist Code",
        "a codelist defined in the same file",
    )
    check(
        t,
        t.duplicated(["codelist", "submission_value"]),
        path,
        "CDISC Submission Value",
        "a value unique within its codelist",
    )
    check(t, t.duplicated(["codelist", "code"]), path, "Code", "a term code unique in its codelist")
    out = pd.DataFrame(
        {
            "codelist": t["codelist"].where(~header, t["code"]),
            "code": t["code"].where(~header, ""),
            "extensible": t["extensible"],
            "name": t["name"].where(header, ""),
            "submission_value": t["submission_value"],
            "synonyms": t["synonyms"],
            "preferred_term": t["preferred_term"],
            "_term": (~header).astype(int),
        }
    ).sort_values(["codelist", "_term", "submission_value"], kind="stable")
    return [Output("terms", file, out.drop(columns="_term"), gz=True)]


# --------------------------------------------------------------------------- CORE rules

CORE_CACHE = "tools/core/cache"
CORE_ORIGIN = (
    "CDISC CORE rules as published with the open-source CDISC Rules Engine "
    "(cdisc-org/cdisc-rules-engine, resources/cache; MIT licence)"
)
#: SDTMIG versions the CORE rule dictionary lists rules for (its keys, e.g. 'sdtmig/3-4').
CORE_IG_VERSIONS = ("3.2", "3.3", "3.4")
CORE_KEEP = (
    "core_id", "description", "sensitivity", "executability", "rule_type", "classes",
    "domains", "conditions", "operations", "datasets", "output_variables", "status",
)  # fmt: skip


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles plain data (dicts, lists, text, numbers) only: no class is ever loaded."""

    def find_class(self, module: str, name: str):
        raise SourceError(f"CORE cache: refusing to load {module}.{name} (plain data expected)")


def _unpickle(path: Path) -> object:
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    with path.open("rb") as fh:
        return _PlainUnpickler(fh).load()


def _citations(rule: dict) -> dict[str, str]:
    """SDTMIG version -> 'SDTMIG 3.4 4.2.3 (CG0029)' from the rule's authorities."""
    found: dict[str, str] = {}
    for authority in rule.get("authorities") or []:
        for std in authority.get("Standards") or []:
            if std.get("Name") != "SDTMIG" or std.get("Version") in found:
                continue
            for ref in std.get("References") or []:
                cite = (ref.get("Citations") or [{}])[0]
                ident = (ref.get("Rule_Identifier") or {}).get("Id", "")
                section = cite.get("Section") or cite.get("Document") or ""
                text = f"{authority.get('Organization', '')} {ident}".strip()
                found[std["Version"]] = f"SDTMIG {std['Version']} {section} ({text})".replace(
                    "  ", " "
                ).strip()
                break
    return found


def build_core_rules(shared: Path) -> list[Output]:
    """The CORE rules for SDTMIG (3.2, 3.3, 3.4) with the IG versions each applies to."""
    cache = shared / CORE_CACHE
    rules = _unpickle(cache / "rules.pkl")
    dictionary = _unpickle(cache / "rules_dictionary.pkl")
    if not isinstance(rules, dict) or not isinstance(dictionary, dict):
        raise SourceError(f"{cache}: rules.pkl / rules_dictionary.pkl are not mappings")
    versions: dict[str, list[str]] = {}
    for version in CORE_IG_VERSIONS:
        key = "sdtmig/" + version.replace(".", "-")
        if key not in dictionary:
            raise SourceError(f"{cache}/rules_dictionary.pkl: no {key} entry")
        for rid in dictionary[key]:
            versions.setdefault(rid, []).append(version)
    out = []
    for rid in sorted(versions):
        rule = rules.get(rid)
        if not isinstance(rule, dict):
            raise SourceError(f"{cache}/rules.pkl: rule {rid} of the dictionary is missing")
        entry = {k: rule.get(k) for k in CORE_KEEP}
        actions = rule.get("actions") or [{}]
        entry["message"] = ((actions[0] or {}).get("params") or {}).get("message", "")
        entry["versions"] = versions[rid]
        entry["citations"] = _citations(rule)
        out.append(entry)
    frame = pd.DataFrame({"core_id": [r["core_id"] for r in out]})
    return [Output("rules", "core-rules-sdtmig.json.gz", frame, gz=True, payload=out)]


# --------------------------------------------------------------------------- CT of other dates

#: CT packages in the CORE rule cache (NCI EVS releases as the CDISC Library serves them),
#: bundled besides the default release of each package so that a study is checked against the
#: release it declares: cache file prefix -> (package, manifest name).
CORE_CT = {"adamct": ("ADaM", "ADaM CT"), "define-xmlct": ("Define-XML", "Define-XML CT")}


def build_cached_ct(path: Path, file: str) -> list[Output]:
    """One CT package of the CORE cache as the bundle's CT table."""
    data = _unpickle(path)
    if not isinstance(data, dict) or not isinstance(data.get("codelists"), list):
        raise SourceError(f"{path}: expected a mapping with a 'codelists' list")
    rows = []
    for cl in data["codelists"]:
        code = cl.get("conceptId", "")
        if not re.fullmatch(C_CODE, code or ""):
            raise SourceError(f"{path}: codelist {cl.get('submissionValue')!r} has no C-code")
        rows.append(
            {
                "codelist": code,
                "code": "",
                "extensible": "Yes" if cl.get("extensible") else "No",
                "name": cl.get("name", ""),
                "submission_value": cl.get("submissionValue", ""),
                "synonyms": "; ".join(cl.get("synonyms") or []),
                "preferred_term": cl.get("preferredTerm", ""),
                "_term": 0,
            }
        )
        for term in cl.get("terms") or []:
            rows.append(
                {
                    "codelist": code,
                    "code": term.get("conceptId", ""),
                    "extensible": "",
                    "name": "",
                    "submission_value": term.get("submissionValue", ""),
                    "synonyms": "; ".join(term.get("synonyms") or []),
                    "preferred_term": term.get("preferredTerm", ""),
                    "_term": 1,
                }
            )
    out = pd.DataFrame(rows).drop_duplicates(["codelist", "_term", "submission_value"])
    out = out.sort_values(["codelist", "_term", "submission_value"], kind="stable")
    return [Output("terms", file, out.drop(columns="_term"), gz=True)]


def cached_ct(shared: Path, defaults: set[tuple[str, str]]) -> list[dict]:
    """Manifest entries of every CT release of the CORE cache not bundled otherwise."""
    found = []
    for path in sorted((shared / CORE_CACHE).glob("*.pkl")):
        m = re.fullmatch(r"(adamct|define-xmlct)-(\d{4}-\d{2}-\d{2})", path.stem)
        if not m:
            continue
        package, name = CORE_CT[m.group(1)]
        if (name, m.group(2)) in defaults:
            continue
        slug = package.lower()
        found.append(
            {
                "name": name,
                "version": m.group(2),
                "kind": "ct",
                "package": package,
                "sources": [f"{CORE_CACHE}/{path.name}"],
                "origin": CORE_ORIGIN,
                "default": False,
                "outputs": build_cached_ct(path, f"ct-{slug}-{m.group(2)}.csv.gz"),
            }
        )
    return found


# --------------------------------------------------------------------------- writing


def encode(out: Output) -> bytes:
    """Deterministic bytes: UTF-8 CSV with '\\n' line ends; gzip with mtime 0 and no name."""
    if out.payload is not None:
        text = json.dumps(out.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    else:
        text = out.frame.to_csv(index=False, lineterminator="\n")
    raw = text.encode("utf-8")
    if not out.gz:
        return raw
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    return buf.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; shipped data files are world-readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def standards(shared: Path) -> list[dict]:
    """(name, version, title, kind, source paths, outputs) of every bundled standard."""
    ct = shared / CT_DIR
    return [
        {
            "name": "SDTMIG",
            "version": "3.4",
            "kind": "ig",
            "sources": [f"{SDTMIG_DIR}/Datasets.csv", f"{SDTMIG_DIR}/Variables.csv"],
            "outputs": build_sdtmig(shared),
        },
        {
            "name": "ADaMIG",
            "version": "1.3",
            "kind": "ig",
            "sources": [f"{ADAMIG_DIR}/DataStructures.csv", f"{ADAMIG_DIR}/Variables.csv"],
            "outputs": build_adamig(shared),
        },
        {
            "name": "SDTM",
            "version": "2.0",
            "kind": "model",
            "sources": [
                f"{MODEL_DIR}/sdtm_v2.0_Datasets.csv",
                f"{MODEL_DIR}/sdtm_v2.0_Variables.csv",
            ],
            "outputs": build_model(shared),
        },
        {
            "name": "SDTM CT",
            "version": "2025-03-28",
            "kind": "ct",
            "package": "SDTM",
            "sources": [f"{CT_DIR}/SDTM_Terminology_2025-03-28.txt"],
            "outputs": build_ct(
                ct / "SDTM_Terminology_2025-03-28.txt", "\t", "ct-sdtm-2025-03-28.csv.gz"
            ),
        },
        {
            "name": "ADaM CT",
            "version": "2025-09-26",
            "kind": "ct",
            "package": "ADaM",
            "sources": [f"{CT_DIR}/ADaM_CT_2025-09-26.csv"],
            "outputs": build_ct(ct / "ADaM_CT_2025-09-26.csv", ",", "ct-adam-2025-09-26.csv.gz"),
        },
        {
            "name": "CORE rules",
            "version": "SDTMIG 3.2-3.4",
            "kind": "rules",
            "sources": [f"{CORE_CACHE}/rules.pkl", f"{CORE_CACHE}/rules_dictionary.pkl"],
            "origin": CORE_ORIGIN,
            "outputs": build_core_rules(shared),
        },
        {
            "name": "Define-XML CT",
            "version": "2025-09-26",
            "kind": "ct",
            "package": "Define-XML",
            "sources": [f"{CT_DIR}/Define-XML_CT_2025-09-26.csv"],
            "outputs": build_ct(
                ct / "Define-XML_CT_2025-09-26.csv", ",", "ct-define-xml-2025-09-26.csv.gz"
            ),
        },
    ]


def build(shared: Path, out_dir: Path) -> dict:
    """Build every file into out_dir; return the manifest written there."""
    entries = []
    primary = standards(shared)
    for std in primary:
        std["default"] = True
    defaults = {(s["name"], s["version"]) for s in primary}
    for std in primary + cached_ct(shared, defaults):
        files = {}
        for out in std["outputs"]:
            data = encode(out)
            write_atomic(out_dir / out.file, data)
            files[out.role] = {
                "file": out.file,
                "rows": len(out.frame),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        entry = {
            k: std[k]
            for k in ("name", "version", "kind", "package", "origin", "default")
            if k in std
        }
        entry["title"] = f"{std['name']} {std['version']}"
        entry["sources"] = [{"path": p, "sha256": sha256(shared / p)} for p in std["sources"]]
        entry["files"] = files
        entries.append(entry)
    manifest = {"format": 1, "generator": "scripts/build_standards.py", "standards": entries}
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(out_dir / "manifest.json", text.encode("utf-8"))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help="the shared reference folder (default: ../shared)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder (default: cdisc_umsc/standards/data)",
    )
    args = parser.parse_args(argv)
    try:
        manifest = build(args.shared.resolve(), args.out)
    except SourceError as exc:
        print(f"build_standards: {exc}", file=sys.stderr)
        return 1
    for std in manifest["standards"]:
        rows = ", ".join(f"{r}={f['rows']}" for r, f in sorted(std["files"].items()))
        print(f"{std['title']}: {rows}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
