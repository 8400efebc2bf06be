"""An OCCDS dataset such as ADAE: one record per source event (ADaM OCCDS Structure v1.1,
section 2: one record per record of the SDTM events domain, traceable by --SEQ).

ADaMIG 1.3 has no OCCDS variable table, so the variables follow the OCCDS document:
TRTA from ADSL (section 3.1.1), ASTDT/ASTDTF/AENDT/AENDTF and ASTDY/AENDY (section 3.1.3,
dates imputed consistently, see ``dates.compute_dt_pair``), TRTEMFL (section 3.1.5) and
the occurrence flags AOCCzzFL (section 3.1.6).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from cdisc_umsc.adam import dates, flags
from cdisc_umsc.adam import derive as D
from cdisc_umsc.core.conditions import match
from cdisc_umsc.core.errors import located
from cdisc_umsc.metadata.specfile import SpecMap


def build_occds(
    spec: SpecMap, sdtm: Mapping[str, pd.DataFrame], adsl: pd.DataFrame
) -> pd.DataFrame:
    r"""Build an OCCDS dataset (such as ADAE): one record per ``source`` event of an ADSL subject.

    With the spec's ``copy:`` and ``adsl:`` variables, treatment variables (``treatment:``),
    imputed start and end dates with their days (``dates:``), TRTEMFL (``trtemfl:``) and
    occurrence flags (``occurrence:``); sorted by USUBJID and --SEQ.

    Args:
        spec: the OCCDS spec (``cdisc_umsc.metadata.specfile.load_spec_file``).
        sdtm: SDTM datasets by domain name (the spec's ``source:``).
        adsl: the ADSL frame (STUDYID, USUBJID and the spec's ``adsl:`` variables).

    Returns:
        The OCCDS frame.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import pandas as pd
        >>> from cdisc_umsc.metadata.specfile import load_spec_file
        >>> tmp = tempfile.TemporaryDirectory()
        >>> path = Path(tmp.name) / "adae.yaml"
        >>> _ = path.write_text(
        ...     "dataset: ADAE\nstructure: OCCDS\nlabel: AE\nkeys: [USUBJID, AESEQ]\n"
        ...     "source: AE\ncopy: [AESEQ, AESTDTC, AEENDTC]\nadsl: [TRTSDT, TRTEDT]\n"
        ...     "dates: {start: AESTDTC, end: AEENDTC}\n")
        >>> ae = pd.DataFrame({"STUDYID": "S", "USUBJID": ["S-1", "S-1"], "AESEQ": [1.0, 2.0],
        ...                    "AESTDTC": ["2019-01-12", "2019-01"], "AEENDTC": ["2019-01-13", ""]})
        >>> adsl = pd.DataFrame({"STUDYID": ["S"], "USUBJID": ["S-1"], "TRTSDT": [21559.0],
        ...                      "TRTEDT": [21580.0]})
        >>> out = build_occds(load_spec_file(path), {"AE": ae}, adsl)
        >>> out[["AESEQ", "ASTDT", "ASTDTF", "ASTDY", "AENDY"]].values.tolist()
        [[1.0, 21561.0, '', 3.0, 4.0], [2.0, 21550.0, 'D', -9.0, nan]]
        >>> tmp.cleanup()
    """
    src_name = str(spec["source"])
    src = sdtm[src_name]
    src = src[src["USUBJID"].isin(adsl["USUBJID"])].reset_index(drop=True)
    out = src[["STUDYID", "USUBJID", *D.copied(spec, src, str(spec["source"]))]].copy()
    out = D.derive_vars_merged(out, adsl, ["STUDYID", "USUBJID"], [str(v) for v in spec["adsl"]])
    for target, source in (spec.get("treatment") or {}).items():
        out[str(target)] = (
            out[str(source)].to_numpy()
            if str(source) in out
            else adsl.set_index("USUBJID")[str(source)].reindex(out["USUBJID"]).to_numpy()
        )
    dt = spec.get("dates")
    if dt is not None:
        lo = out[str(dt["min_date"])] if dt.get("min_date") else None
        hi = out[str(dt["max_date"])] if dt.get("max_date") else None
        with located(f"{dt.where()}: {spec['dataset']}"):
            st, stf, en, enf = dates.compute_dt_pair(
                src[str(dt["start"])], src[str(dt["end"])], str(dt.get("highest", "M")), lo, hi
            )
        out["ASTDT"], out["ASTDTF"] = st.to_numpy(), stf.to_numpy()
        out["AENDT"], out["AENDTF"] = en.to_numpy(), enf.to_numpy()
        out["ASTDY"] = D.compute_ady(out["ASTDT"], out["TRTSDT"])
        out["AENDY"] = D.compute_ady(out["AENDT"], out["TRTSDT"])
    tem = spec.get("trtemfl")
    if tem is not None:
        with located(f"{tem.where()}"):
            out["TRTEMFL"] = flags.compute_trtemfl(
                out,
                end_window=int(tem.get("end_window", 0)),
                missing_start=str(tem.get("missing_start", "emergent")),
            )
    for occ in spec.get("occurrence") or []:
        with located(f"{occ.where()}"):
            sel = match(out, occ.get("where"), f"{occ.where()}: where")
            out[str(occ["flag"])] = flags.compute_extreme_flag(
                out,
                [str(v) for v in occ["by"]],
                [str(v) for v in occ["order"]],
                str(occ.get("mode", "first")),
                sel,
            )
    seq = f"{src_name}SEQ"
    keys = ["USUBJID", seq] if seq in out else ["USUBJID"]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)
