"""``out/index.html``: the one page a reviewer opens first after a run.

Self-contained (inline CSS and SVG, a Content-Security-Policy that forbids any fetch), computed
from the ADaM datasets written in the same output folder, deterministic bytes, atomic write.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from pathlib import Path
from string import Template

from cdisc_umsc.core.atomic import write_text
from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.standards import resolve_in_use
from cdisc_umsc.review import sections
from cdisc_umsc.review.load import load_inputs

PAGE = "index.html"


def render_review(out_dir: Path, manifest: dict) -> str:
    """The page's HTML for the output folder ``out_dir`` and its run manifest (whose
    ``review`` plan, from the ADaM spec, says which endpoints and panels to show)."""
    plan = manifest.get("review") or {"endpoints": [], "labs": [], "shifts": []}
    inputs = load_inputs(out_dir, plan)
    template = Template(
        resources.files("cdisc_umsc.review").joinpath("page.html").read_text(encoding="utf-8")
    )
    return template.substitute(
        version=escape(str(manifest["tool"]["version"])),
        study=escape(str(manifest["study"])),
        facts=sections.facts(manifest),
        accounting=sections.accounting(manifest),
        files=sections.files(out_dir, manifest),
        efficacy=sections.efficacy(inputs),
        labs=sections.labs(inputs),
        safety=sections.safety(inputs, resolve_in_use(manifest["standards"], "manifest.json")),
    )


def build_review(out_dir: Path, manifest: dict | None = None) -> Path:
    """Write ``out_dir/index.html`` (atomically) and return its path; the manifest is read
    from ``out_dir/manifest.json`` when not given."""
    out_dir = Path(out_dir)
    if manifest is None:
        path = out_dir / "manifest.json"
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read the run manifest ({exc})") from exc
    text = render_review(out_dir, manifest)
    target = out_dir / PAGE
    write_text(target, text)
    return target
