"""Writers of submission files: SAS XPORT v5, Dataset-JSON 1.1, Define-XML 2.1."""
