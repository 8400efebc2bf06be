"""Inputs of a stand-alone ADaM derivation: the ADaM spec files of a study folder and a folder
of SDTM datasets (XPT or Dataset-JSON), read only when a derivation asks for a domain."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pandas as pd

from cdisc_umsc.core.errors import InputError
from cdisc_umsc.metadata.specfile import SpecMap, load_spec_file
from cdisc_umsc.read.datasets import dataset_files, read_dataset


def load_adam_specs(folder: Path) -> dict[str, SpecMap]:
    r"""Load the ADaM spec files of a study folder, by dataset name.

    Reads ``folder/adam/*.yaml``, or ``folder/*.yaml`` when there is no ``adam/``; a YAML file
    without ``dataset:`` (such as study.yaml) is a settings file and is skipped.

    Args:
        folder: the study folder.

    Returns:
        ``dataset -> spec``. Two files declaring one dataset, or no spec file at all, raise
        InputError naming the file.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> tmp = tempfile.TemporaryDirectory()
        >>> folder = Path(tmp.name)
        >>> _ = (folder / "adsl.yaml").write_text(
        ...     "dataset: ADSL\nstructure: ADSL\nlabel: Subject-Level\n"
        ...     "keys: [STUDYID, USUBJID]\ncopy: [STUDYID, USUBJID]\n")
        >>> _ = (folder / "study.yaml").write_text("study: S\n")
        >>> specs = load_adam_specs(folder)
        >>> sorted(specs), specs["ADSL"]["keys"]
        (['ADSL'], ['STUDYID', 'USUBJID'])
        >>> tmp.cleanup()
    """
    folder = Path(folder)
    where = folder / "adam" if (folder / "adam").is_dir() else folder
    specs: dict[str, SpecMap] = {}
    for path in sorted(where.glob("*.yaml")):
        spec = load_spec_file(path, str(path))
        if "dataset" not in spec:
            continue  # study.yaml and other settings files
        name = str(spec["dataset"])
        if name in specs:
            raise InputError(f"{path}: dataset {name} is also declared in {specs[name].file}")
        specs[name] = spec
    if not specs:
        raise InputError(f"{where}: no ADaM spec files (*.yaml with 'dataset:')")
    return specs


class SdtmFolder(Mapping[str, pd.DataFrame]):
    """SDTM datasets of a folder by domain name (``dm.xpt``, ``dm.json`` or ``dm.ndjson``),
    each read once, on first use."""

    def __init__(self, folder: Path, encoding: str = "utf-8") -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise InputError(f"{self.folder}: SDTM folder not found")
        self.encoding = encoding
        self._files = dataset_files(self.folder)[0]
        self._cache: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        key = name.upper()
        if key not in self._cache:
            path = self._files.get(key)
            if path is None:
                raise InputError(
                    f"{self.folder}: no {key.lower()}.xpt, .json or .ndjson "
                    f"(the ADaM spec reads domain {key})"
                )
            self._cache[key] = self._read(path)
        return self._cache[key]

    def _read(self, path: Path) -> pd.DataFrame:
        frame = read_dataset(path, self.encoding)[0]
        text = [c for c in frame.columns if frame[c].dtype.kind not in "fiub"]
        frame[text] = frame[text].astype(object).where(frame[text].notna(), "")
        return frame

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)
