"""cdisc-umsc: raw CRF exports to CDISC SDTM and ADaM, driven by one metadata object."""

from cdisc_umsc.core.version import __version__

__all__ = ["__version__"]
