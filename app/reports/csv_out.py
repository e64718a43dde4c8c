"""CSV as the reports and the accountant's export write it: RFC 4180 quoting (the csv
module), a header row, and no cell a spreadsheet would run as a formula — text that starts
with = + - @ (or a tab or carriage return) is written with a leading apostrophe
(core.text.csv_cell). Numbers we format ourselves (money, percentages) are written as they
are, so a loss stays the number -1000.00 in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from app.core.text import csv_cell


class Number(str):
    """A cell that is a number we wrote (not text from a user): never guarded."""


def money(value) -> Number:
    return Number("" if value is None else f"{Decimal(value):.2f}")


def cell(value) -> str:
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return csv_cell(value)


def lines(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The CSV text, one row at a time (a streamed response's body)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell(v) for v in values])
        return buffer.getvalue()

    yield line(header)
    for row in rows:
        yield line(row)


def text(header: Iterable[str], rows: Iterable[Iterable]) -> str:
    return "".join(lines(header, rows))


def spooled(rows_text: Iterable[str], limit: int = 1 << 20):
    """The CSV written, while the request still holds its database session, to a file
    kept in memory up to `limit` bytes and on disk beyond: the response then streams that
    file (bounded memory for a year of rows) and no query runs after the view returns."""
    import tempfile

    spool = tempfile.SpooledTemporaryFile(max_size=limit)  # noqa: SIM115 - the response closes it
    size = 0
    for chunk in rows_text:
        data = chunk.encode()
        size += len(data)
        spool.write(data)
    spool.seek(0)
    return spool, size


def response(rows_text: Iterable[str], filename: str, status: int = 200):
    """A CSV download of `rows_text` (see spooled)."""
    from flask import Response, request
    from werkzeug.wsgi import wrap_file

    spool, size = spooled(rows_text)
    if not spool._rolled:  # still in memory (under the limit): the bytes themselves
        with spool:
            answer = Response(spool.read(), status=status, mimetype="text/csv")
    else:  # on disk: streamed from the file, closed by the server when sent
        answer = Response(
            wrap_file(request.environ, spool), status=status, mimetype="text/csv", direct_passthrough=True
        )
        answer.content_length = size
        answer.call_on_close(spool.close)
    answer.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    answer.headers["Cache-Control"] = "private, no-store"
    return answer
