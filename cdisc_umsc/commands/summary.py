"""What ``run`` and ``check`` print about a study's raw records: every record and field
accounted for, conditions that matched nothing, records per dataset. Not a command."""

from __future__ import annotations

import click

from cdisc_umsc.core.errors import echo_safe


def echo_accounting(
    raw_forms: list[dict],
    ignored_files: list[dict],
    unmatched: list[str],
    records: dict[str, int],
) -> None:
    """Print raw records read = mapped + excluded per form (with each exclusion reason),
    collected fields the spec does not submit, raw-folder files that are no form, conditions
    that matched no record, and the records of each dataset."""
    click.echo("\nRaw records (read = mapped + excluded):")
    for f in raw_forms:
        click.echo(
            f"  {f['file']:<14} {f['read']:>6} read {f['mapped']:>6} mapped "
            f"{f['excluded']:>4} excluded"
        )
        for reason, count in f["reasons"].items():
            echo_safe(f"      {count} excluded: {reason}")
    dropped = [
        (f["form"], name, what)
        for f in raw_forms
        for name, what in f.get("fields", {}).items()
        if "not submitted" in what
    ]
    if dropped:
        click.echo("\nCollected fields not submitted (the spec's reason):")
        for form, name, what in dropped:
            echo_safe(f"  {form}.{name}: {what.split('not submitted: ', 1)[1]}")
    if ignored_files:
        click.echo("\nRaw-folder files that are no form (raw: ignore:):")
        for f in ignored_files:
            echo_safe(f"  {f['file']}: {f['reason']}")
    if unmatched:
        click.echo("\nConditions that matched no record (check the spec's values):")
        for line in unmatched:
            echo_safe(f"  {line}")
    click.echo("\nRecords per dataset:")
    for name, count in records.items():
        click.echo(f"  {name:<14} {count:>6}")
