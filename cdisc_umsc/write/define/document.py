"""The define.xml document (Define-XML 2.1.0, 2019-05-15): ODM 1.3.2 root with def:Context
(§4.1), study and protocol names, def:Standards (§5.3.1.1), the annotated CRF and supplemental
documents (§5.3.2-5.3.3), value lists and where clauses, datasets in the order of their class
(SDTMIG 3.4 section 2.6 / the CDISC example defines), items, codelists, methods, comments,
document leaves and, for analysis data, Analysis Results Metadata 1.0.

Bytes are deterministic: no clock, fixed element and attribute order, sorted test codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd
from lxml import etree

from cdisc_umsc.core.errors import WriteError
from cdisc_umsc.core.version import __version__
from cdisc_umsc.metadata.model import Dataset, Study
from cdisc_umsc.metadata.standards import versions
from cdisc_umsc.write.datasetjson import metadata_version_oid, study_oid
from cdisc_umsc.write.define.arm import analysis_results
from cdisc_umsc.write.define.codelists import STD_ADAM_CT, STD_CT, Codelists
from cdisc_umsc.write.define.items import STD_IG, Build, item_def, item_group
from cdisc_umsc.write.define.nodes import ARM_NS, DEF_NS, NSMAP, ODM_NS, el, q, translated

#: Order of the dataset classes in a define (SDTMIG 3.4 section 2.6, ADaMIG 1.3 section 1.6):
#: trial design first; SUPP-- (Relationship) after every other class, in their parents' order.
CLASS_ORDER = (
    "TRIAL DESIGN",
    "SPECIAL PURPOSE",
    "INTERVENTIONS",
    "EVENTS",
    "FINDINGS",
    "FINDINGS ABOUT",
    "STUDY REFERENCE",
    "SUBJECT LEVEL ANALYSIS DATASET",
    "BASIC DATA STRUCTURE",
    "OCCURRENCE DATA STRUCTURE",
    "ADAM OTHER",
    "RELATIONSHIP",
)


def _class(ds: Dataset) -> str:
    return re.sub(r"[\s_-]+", " ", ds.cls).strip().upper()


def dataset_order(datasets: Mapping[str, Dataset]) -> list[str]:
    """Dataset names by class, alphabetically within a class; a SUPP-- dataset follows the
    other relationship datasets in the order of its parent, a dataset of a class the
    standards do not name comes before the relationship datasets."""
    rank = {c: i for i, c in enumerate(CLASS_ORDER)}
    other = rank["RELATIONSHIP"] - 0.5

    def key(name: str) -> tuple:
        ds = datasets[name]
        cls = _class(ds)
        return (rank.get(cls, other), name.startswith("SUPP"), name)

    main = sorted((n for n in datasets if not n.startswith("SUPP")), key=key)
    position = {n: i for i, n in enumerate(main)}
    supp = sorted(
        (n for n in datasets if n.startswith("SUPP")),
        key=lambda n: (position.get(datasets[n].parent or n[4:], len(main)), n),
    )
    return main + supp


def _included(
    study: Study, datasets: Mapping[str, pd.DataFrame], purpose: str
) -> dict[str, Dataset]:
    """Study datasets that have a frame, in class order; frames and metadata must agree."""
    unknown = sorted(set(datasets) - set(study.datasets))
    if unknown:
        raise WriteError(f"define: dataset {unknown[0]} has data but no metadata in the study")
    out = {}
    for name, ds in study.datasets.items():
        if name not in datasets:
            continue
        if ds.purpose != purpose:
            raise WriteError(
                f"define: dataset {name} has purpose {ds.purpose}, the define is {purpose}"
            )
        cols = list(datasets[name].columns)
        for var in ds.names:
            if var not in cols:
                raise WriteError(
                    f"define: dataset {name}, variable {var}: in the metadata but not in the data"
                )
        for col in cols:
            if not ds.has(col):
                raise WriteError(
                    f"define: dataset {name}, variable {col}: in the data but not in the metadata"
                )
        out[name] = ds
    return {name: out[name] for name in dataset_order(out)}


def _standards(mdv: etree._Element, b: Build) -> None:
    """def:Standards (§5.3.1.1): the IGs and each CT package a codelist comes from."""
    study = b.study
    node = el(mdv, "def:Standards")
    el(
        node,
        "def:Standard",
        [
            ("OID", STD_IG),
            ("Name", study.standard),
            ("Type", "IG"),
            ("Version", study.standard_version),
            ("Status", "Final"),
        ],
    )
    for text, oid in b.other_igs.items():
        name, version = text.rsplit(" ", 1)
        el(
            node,
            "def:Standard",
            [
                ("OID", oid),
                ("Name", name),
                ("Type", "IG"),
                ("Version", version),
                ("Status", "Final"),
            ],
        )
    used = b.codelists.standards_used()
    el(
        node,
        "def:Standard",
        [
            ("OID", STD_CT),
            ("Name", "CDISC/NCI"),
            ("Type", "CT"),
            ("PublishingSet", "SDTM"),
            ("Version", study.ct_version),
            ("Status", "Final"),
        ],
    )
    if STD_ADAM_CT in used:
        el(
            node,
            "def:Standard",
            [
                ("OID", STD_ADAM_CT),
                ("Name", "CDISC/NCI"),
                ("Type", "CT"),
                ("PublishingSet", "ADaM"),
                ("Version", versions()["ADaM CT"]),
                ("Status", "Final"),
            ],
        )


def _where_clause(mdv: etree._Element, oid: str, checks: list[tuple[str, str, list[str]]]) -> None:
    node = el(mdv, "def:WhereClauseDef", [("OID", oid)])
    for item, comparator, values in checks:
        check = el(
            node,
            "RangeCheck",
            [("Comparator", comparator), ("SoftHard", "Soft"), ("def:ItemOID", item)],
        )
        for value in values:
            el(check, "CheckValue", [], value)


def _documents(mdv: etree._Element, study: Study) -> None:
    """def:AnnotatedCRF and def:SupplementalDoc (§5.3.2-5.3.3): references to the leaves."""
    for kind in ("AnnotatedCRF", "SupplementalDoc"):
        docs = [d for d in study.documents if d.kind == kind]
        if docs:
            node = el(mdv, f"def:{kind}")
            for doc in docs:
                el(node, "def:DocumentRef", [("leafID", f"LF.{doc.id}")])


def _leaves(mdv: etree._Element, study: Study) -> None:
    for doc in study.documents:
        leaf = el(mdv, "def:leaf", [("ID", f"LF.{doc.id}"), ("xlink:href", doc.href)])
        el(leaf, "def:title", [], doc.title)


def build_define(
    study: Study,
    datasets: Mapping[str, pd.DataFrame],
    *,
    purpose: Literal["Tabulation", "Analysis"],
    value_lists: Mapping[tuple[str, str], str] | None = None,
    arm: Sequence[Mapping] | None = None,
    files: Mapping[str, str] | None = None,
    findings: list[str] | None = None,
) -> etree._ElementTree:
    """The Define-XML 2.1 document of `datasets` (lengths and terms measured on the data).

    Study datasets without a frame in `datasets` are left out (one Study may hold both SDTM
    and ADaM); a frame without metadata, a column mismatch or another purpose is an error.
    ``files`` gives each dataset's file name (def:leaf; default ``<name>.xpt``). Values
    outside a non-extensible codelist are left out of it and described in ``findings``.
    """
    if purpose not in ("Tabulation", "Analysis"):
        raise WriteError(f"define: purpose must be Tabulation or Analysis, not {purpose!r}")
    if arm and purpose != "Analysis":
        raise WriteError("define: analysis results metadata (arm) needs purpose Analysis")
    included = _included(study, datasets, purpose)
    value_lists = dict(value_lists or {})
    for ds_name, var_name in value_lists:
        if ds_name not in included or not included[ds_name].has(var_name):
            raise WriteError(
                f"define: value list for dataset {ds_name}, variable {var_name}: "
                "no such variable in this define"
            )
    ids = [d.id for d in study.documents]
    if len(set(ids)) != len(ids):
        raise WriteError(f"define: document ids must be unique, got {', '.join(ids)}")
    acrf = next((f"LF.{d.id}" for d in study.documents if d.kind == "AnnotatedCRF"), None)
    nsmap = dict(NSMAP) | ({"arm": ARM_NS} if arm else {})
    # lxml-stubs 0.5.1 types nsmap as Mapping[str, str]; lxml takes the None key (the default
    # namespace), and its own Element.nsmap is typed Dict[Optional[str], str]
    root = etree.Element(q(ODM_NS, "ODM"), nsmap=nsmap)  # type: ignore[arg-type]
    for key, value in (
        ("ODMVersion", "1.3.2"),
        ("FileType", "Snapshot"),
        ("FileOID", f"{study_oid(study)}.Define-XML_2.1.0.{purpose}"),
        ("CreationDateTime", study.created),
        ("Originator", "cdisc-umsc"),
        ("SourceSystem", "cdisc-umsc"),
        ("SourceSystemVersion", __version__),
        (q(DEF_NS, "Context"), "Submission"),
    ):
        root.set(key, value)
    root.addprevious(
        etree.ProcessingInstruction("xml-stylesheet", 'type="text/xsl" href="define2-1.xsl"')
    )
    st = el(root, "Study", [("OID", study_oid(study))])
    glob = el(st, "GlobalVariables")
    el(glob, "StudyName", [], study.study_id)
    el(glob, "StudyDescription", [], study.title or f"Study {study.study_id}")
    el(glob, "ProtocolName", [], study.study_id)
    mdv = el(
        st,
        "MetaDataVersion",
        [
            ("OID", metadata_version_oid(study)),
            ("Name", f"Study {study.study_id}, {purpose} Data Definitions"),
            (
                "Description",
                f"{purpose} datasets of study {study.study_id}, "
                f"{study.standard} {study.standard_version}",
            ),
            ("def:DefineVersion", "2.1.0"),
        ],
    )

    b = Build(study, Codelists(study, findings if findings is not None else []), files or {}, acrf)
    scratch = etree.Element(q(ODM_NS, "scratch"), nsmap=nsmap)  # type: ignore[arg-type]  # as above
    for name, ds in included.items():
        item_group(scratch, b, ds, datasets[name], purpose, value_lists)
    arm_clauses = analysis_results(scratch, arm, included) if arm else []
    groups = list(scratch)
    arm_el = groups.pop() if arm else None

    _standards(mdv, b)
    _documents(mdv, study)
    for vl, refs in b.value_lists:
        node = el(mdv, "def:ValueListDef", [("OID", vl)])
        for order, (oid, wc, method) in enumerate(refs, start=1):
            ref = el(
                node,
                "ItemRef",
                [
                    ("ItemOID", oid),
                    ("OrderNumber", order),
                    ("Mandatory", "No"),
                    ("MethodOID", method),
                ],
            )
            el(ref, "def:WhereClauseRef", [("WhereClauseOID", wc)])
    written: set[str] = set()
    for oid, checks in b.where + arm_clauses:
        if oid not in written:  # one clause serves every variable described by the same test
            written.add(oid)
            _where_clause(mdv, oid, checks)
    mdv.extend(groups)
    for var, info in b.item_defs + b.value_defs:
        item_def(mdv, b, var, info)
    b.codelists.write(mdv)
    b.write_methods(mdv)
    for oid, text in b.comments:
        translated(el(mdv, "def:CommentDef", [("OID", oid)]), "Description", text)
    _leaves(mdv, study)
    if arm_el is not None:
        mdv.append(arm_el)
    tree = root.getroottree()
    etree.cleanup_namespaces(tree, top_nsmap=nsmap)  # type: ignore[arg-type]  # None key, as above
    return tree
