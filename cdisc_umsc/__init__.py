"""cdisc-umsc: raw CRF exports to CDISC SDTM and ADaM, driven by one metadata object."""

__version__ = "0.1.0"
