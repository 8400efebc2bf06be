"""Validation engine: catalogue rules (rules.csv) run as vectorised checks over a study.

``validate_study(datasets, study, profile=...)`` returns :class:`Findings`.
"""

from cdisc_umsc.validate.engine import ValidationError, validate_study
from cdisc_umsc.validate.findings import COLUMNS, Findings
from cdisc_umsc.validate.igmeta import dataset_from_ig, study_from_ig

__all__ = [
    "COLUMNS",
    "Findings",
    "ValidationError",
    "dataset_from_ig",
    "study_from_ig",
    "validate_study",
]
