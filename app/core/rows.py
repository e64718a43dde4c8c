"""Line rows typed in a form: each column posted as a list (`line_description`,
`line_quantity`, …, one value per row, in order), read back as one dict per row. A row
whose columns are all empty is left out (the blank rows a form offers for more lines)."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def line_rows(
    form, fields: Iterable[str], filled: Iterable[str], keep: Callable[[dict], bool] | None = None
) -> list[dict]:
    """The rows of `form` (a MultiDict): `fields` read from `line_<field>` lists; a row is
    kept when one of `filled` is not blank (or, given, when `keep(row)` says so)."""
    fields, filled = tuple(fields), tuple(filled)
    columns = {key: form.getlist(f"line_{key}") for key in fields}
    rows = []
    for index in range(max((len(v) for v in columns.values()), default=0)):
        row = {key: (columns[key][index] if index < len(columns[key]) else "") for key in fields}
        if keep(row) if keep is not None else any(str(row[key]).strip() for key in filled):
            rows.append(row)
    return rows
