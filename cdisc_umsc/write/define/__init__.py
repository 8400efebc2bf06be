"""Write Define-XML 2.1 (with ARM 1.0 for ADaM), validate it offline and render define.html.

Implements CDISC Define-XML 2.1.0 (2019-05-15) and Analysis Results Metadata 1.0; the modules
say which sections: ``document`` (the whole file), ``items`` (datasets, variables, origins,
methods, value-level metadata), ``codelists``, ``arm``, ``check`` (schema and references) and
``output`` (bytes, define.html, the stylesheet beside define.xml).
"""

from __future__ import annotations

from cdisc_umsc.write.define.check import validate_define
from cdisc_umsc.write.define.document import build_define, dataset_order
from cdisc_umsc.write.define.nodes import ARM_NS, DEF_NS, ODM_NS, XLINK_NS
from cdisc_umsc.write.define.output import (
    STYLESHEET,
    define_bytes,
    render_html,
    stylesheet_bytes,
    write_define,
)

__all__ = [
    "ARM_NS",
    "DEF_NS",
    "ODM_NS",
    "STYLESHEET",
    "XLINK_NS",
    "build_define",
    "dataset_order",
    "define_bytes",
    "render_html",
    "stylesheet_bytes",
    "validate_define",
    "write_define",
]
