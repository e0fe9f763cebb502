"""CSV exports in constant memory: a SELECT read over a server-side cursor, written in chunks.

One generator serves the HTTP download and the CLI file alike. The rows come from a
connection of the export's own with `stream_results` (PyMySQL's unbuffered cursor on
MySQL), `yield_per` rows at a time, so a million-row export holds one partition and one
chunk of CSV text in memory, never the result. The HTTP answer wraps the generator in
`stream_with_context`, so the app context outlives the view while the body is sent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

from flask import Response, stream_with_context
from sqlalchemy import Executable

from xeno.extensions import db

PARTITION = 2000  # rows fetched from the server at a time, and rows per CSV chunk

Shape = Callable[[Any], Sequence[Any]]


def streamed_rows(
    statement: Executable, shape: Shape, partition: int | None = None
) -> Iterator[list[Sequence[Any]]]:
    """Yield lists of shaped rows of `statement`, read through a server-side cursor."""
    per = partition or PARTITION
    with db.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=per).execute(statement)
        for rows in result.partitions():
            yield [shape(row) for row in rows]


def csv_chunks(header: Sequence[str], batches: Iterable[list[Sequence[Any]]]) -> Iterator[str]:
    """The header line, then one block of CSV text per batch of rows (standard `csv`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield buffer.getvalue()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(batch)
        yield buffer.getvalue()


def csv_response(header: Sequence[str], batches: Iterable[list[Sequence[Any]]],
                 filename: str) -> Response:
    """A streamed `text/csv` download of the rows."""
    body = stream_with_context(csv_chunks(header, batches))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def write_csv(out: IO[str], header: Sequence[str], batches: Iterable[list[Sequence[Any]]]) -> int:
    """Write the rows as CSV to an open text file; return how many rows were written."""
    written = 0

    def counted() -> Iterator[list[Sequence[Any]]]:
        nonlocal written
        for batch in batches:
            written += len(batch)
            yield batch

    for chunk in csv_chunks(header, counted()):
        out.write(chunk)
    return written
