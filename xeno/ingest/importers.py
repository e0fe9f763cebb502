"""`xeno import`: stream CSV, JSON or JSONL files through the API's validation into the broker."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from xeno.ingest.schemas import CustomerIn, OrderIn
from xeno.platform import streams
from xeno.platform.records import MAX_RECORDS, validate_one

MODELS = {"customers": CustomerIn, "orders": OrderIn}

Line = tuple[int, Any]  # (1-based line number where the record starts, raw record)


@dataclass
class ImportReport:
    """What an import did: how many records went out, which lines were refused and why."""

    published: int = 0
    batch_ids: list[str] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)


def read_csv(handle: TextIO) -> Iterator[Line]:
    """Rows as dicts; empty cells count as missing."""
    reader = csv.DictReader(handle)
    for row in reader:
        extra = row.pop(None, None)  # type: ignore[call-overload]
        record: dict[str, Any] = {k: v for k, v in row.items() if v not in (None, "")}
        if extra:
            record["__extra_cells__"] = extra  # refused by validation as an unknown key
        yield reader.line_num, record


def read_jsonl(handle: TextIO) -> Iterator[Line]:
    """One JSON object per line; a line that does not parse is yielded as an error string."""
    for number, line in enumerate(handle, start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                yield number, ParseError(str(exc))


def read_json_array(handle: TextIO, chunk_size: int = 1 << 16) -> Iterator[Line]:
    """Items of a top-level JSON array (or one object), decoded incrementally, never all at once."""
    decoder = json.JSONDecoder()
    buffer, line, started = "", 1, False
    while True:
        chunk = handle.read(chunk_size)
        buffer += chunk
        while True:
            stripped = buffer.lstrip(" \t\r\n,")
            line += buffer[: len(buffer) - len(stripped)].count("\n")
            buffer = stripped
            if not started and buffer[:1] == "[":
                buffer, started = buffer[1:], True
                continue
            if not buffer or buffer[0] == "]":
                break
            try:
                item, end = decoder.raw_decode(buffer)
            except ValueError as exc:
                if not chunk:  # nothing more to read: the file is broken here
                    yield line, ParseError(str(exc))
                    return
                break  # the item continues in the next chunk
            yield line, item
            line += buffer[:end].count("\n")
            buffer = buffer[end:]
        if not chunk:
            return


class ParseError(str):
    """A record that could not be read at all."""


READERS: dict[str, Callable[[TextIO], Iterator[Line]]] = {
    ".csv": read_csv,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".json": read_json_array,
}


def reader_for(path: Path) -> Callable[[TextIO], Iterator[Line]]:
    """Pick the reader by extension."""
    try:
        return READERS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path.name}: use a .csv, .json or .jsonl file") from None


def import_file(
    kind: str, path: Path, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Validate every record and publish the good ones in batches of 1000; report the bad."""
    report = ImportReport()
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if pending:
            report.batch_ids.append(streams.publish(kind, pending))
            report.published += len(pending)
            pending.clear()

    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, raw in reader_for(path)(handle):
            if isinstance(raw, ParseError):
                report.bad.append((line, f"not valid JSON: {raw}"))
                continue
            message, errors = validate_one(MODELS[kind], raw)
            if errors:
                text = "; ".join(_describe(e) for e in errors)
                report.bad.append((line, text))
                continue
            pending.append(message)  # type: ignore[arg-type]
            if len(pending) == MAX_RECORDS:
                flush()
            if progress:
                progress(1)
    flush()
    return report


def _describe(error: dict[str, Any]) -> str:
    field_name = error.get("field")
    if field_name == "__extra_cells__":
        return "the row has more cells than the header"
    return f"{field_name}: {error['message']}" if field_name else error["message"]
