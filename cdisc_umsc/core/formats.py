"""Facts of the submission file formats that readers and writers share.

SAS numbers count days (dates) or seconds (date-times) from 1960-01-01 and are IEEE/IBM doubles;
Dataset-JSON 1.1 names its creation timestamp's pattern. Each is written here once.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: SAS epoch: SAS dates count days and SAS datetimes count seconds from 1960-01-01.
SAS_EPOCH_D = np.datetime64("1960-01-01", "D")
SAS_EPOCH_S = np.datetime64("1960-01-01T00:00:00", "s")
SAS_EPOCH = pd.Timestamp("1960-01-01")
#: Years 0001-9999 only: ISO 8601 four-digit years without sign.
MIN_DAY = int((np.datetime64("0001-01-01", "D") - SAS_EPOCH_D).astype(np.int64))
MAX_DAY = int((np.datetime64("9999-12-31", "D") - SAS_EPOCH_D).astype(np.int64))
#: Integers must survive the float64 that holds every SAS numeric.
MAX_EXACT_INT = 2**53

DATASET_JSON_VERSION = "1.1.0"
#: Dataset-JSON 1.1, Top-level Metadata Attributes: datasetJSONCreationDateTime pattern.
CREATED_RE = re.compile(
    r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](\.[0-9]+)?(([+-]([01][0-9]|2[0-3]):[0-5][0-9])|Z)?"
)
