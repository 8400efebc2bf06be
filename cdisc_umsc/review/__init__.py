"""The review page (``out/index.html``): study header, efficacy, laboratory panels and safety."""

from cdisc_umsc.review.page import build_review, render_review

__all__ = ["build_review", "render_review"]
