"""Sub-commands of ``cdisc-umsc``: each module here defines one click command named ``command``.

The CLI registers every module of this package (in name order), so a new command is a new
module and never an edit of a shared file. ``_options`` holds options several commands share.
"""
