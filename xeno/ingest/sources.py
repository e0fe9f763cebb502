"""Files a shop exports, read one line at a time: CSV (any of , ; tab |), JSON arrays, JSONL.

A file is never read whole: a 5-million-line export streams through in constant memory.
Anything that makes the whole file unusable (binary, empty, header only, a required column
missing) is an `Unreadable` raised before a single line is handed out.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from xeno.platform.http import JSON_STRING

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
# The two columns a rejected-lines file adds; importing that file again leaves them out.
REJECT_COLUMNS = ["line", "error"]
FIELDS = {
    "customers": ("id", "name", "email", "phone", "city", "signup_at"),
    "orders": ("id", "customer_id", "amount", "ordered_at"),
}
REQUIRED = {"customers": ("id", "name"), "orders": ("id", "customer_id", "amount", "ordered_at")}


class Unreadable(Exception):
    """The file as a whole cannot be imported; nothing from it is stored."""


@dataclass
class Line:
    """One record of a file: where it starts, its fields, and what it held as written."""

    number: int
    record: dict[str, Any] | None  # None when the line could not be read at all
    cells: list[str]  # the original cells (CSV) or the original text (JSON), for the rejects
    problem: str | None = None


@dataclass
class Source:
    """An opened import file: its shape, and its lines one at a time."""

    path: Path
    kind: str
    format: str  # "csv" | "jsonl" | "json"
    handle: io.TextIOWrapper
    raw: BinaryIO
    size: int
    delimiter: str = ","
    header: list[str] = field(default_factory=list)
    columns: dict[int, str] = field(default_factory=dict)  # cell index -> field name
    attribute_columns: dict[int, str] = field(default_factory=dict)  # cell index -> attribute
    bom: bool = False

    @property
    def position(self) -> int:
        """Bytes read so far, for the progress bar."""
        return self.raw.tell()

    def lines(self) -> Iterator[Line]:
        """Every record of the file in order."""
        if self.format == "csv":
            return self._csv_lines()
        if self.format == "jsonl":
            return _jsonl_lines(self.handle)
        return _json_array_lines(self.handle)

    def close(self) -> None:
        """Close the file."""
        self.handle.close()

    def _csv_lines(self) -> Iterator[Line]:
        reader = csv.reader(self.handle, delimiter=self.delimiter)
        for header in reader:  # the header (read in open_source), after any blank lines
            if any(cell.strip() for cell in header):
                break
        width, end = len(self.header), reader.line_num
        for cells in reader:
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a row of empty cells as spreadsheets leave them
            if not _is_utf8(cells):
                yield Line(start, None, cells, "the line is not UTF-8 text")
            elif len(cells) != width:
                problem = f"the line has {len(cells)} cells where the header has {width}"
                yield Line(start, None, cells, problem)
            else:
                yield Line(start, self._record(cells), cells)

    def _record(self, cells: list[str]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for index, name in self.columns.items():
            value = cells[index].strip()
            if value:
                record[name] = value
        attributes = {
            name: cells[index] for index, name in self.attribute_columns.items() if cells[index]
        }
        if attributes:
            record["attributes"] = attributes
        return record


def open_source(path: Path, kind: str) -> Source:
    """Open an import file and read its shape; `Unreadable` says why it cannot be imported."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        fmt = "csv"
    elif suffix in JSONL_SUFFIXES:
        fmt = "jsonl"
    elif suffix == ".json":
        fmt = "json"
    else:
        raise Unreadable(f"{path.name} is not a .csv, .json or .jsonl file")
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise Unreadable(f"{path} cannot be read: {exc.strerror}") from None
    try:
        size = path.stat().st_size
        sample = raw.read(SAMPLE_BYTES)
        text = _check_text(path, sample)
        raw.seek(0)
        # surrogateescape: a stray non-UTF-8 byte rejects its line, and the rejected-lines
        # file writes the very bytes back, so nothing is lost.
        handle = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        source = Source(path, kind, fmt, handle, raw, size, bom=sample.startswith(b"\xef\xbb\xbf"))
        if fmt == "csv":
            _read_header(source, text, whole_file=len(sample) == size)
        return source
    except BaseException:
        raw.close()
        raise


def _check_text(path: Path, sample: bytes) -> str:
    """The sample as text, refusing binary, empty and non-UTF-8 files."""
    if b"\x00" in sample:
        raise Unreadable(
            f"{path.name} is not a text file (it holds binary data); "
            "export it as CSV, JSON or JSONL"
        )
    if not sample.removeprefix(b"\xef\xbb\xbf").strip():
        raise Unreadable(f"{path.name} is empty")
    try:
        return sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        cut = len(sample) == SAMPLE_BYTES and exc.reason == "unexpected end of data"
        if cut:  # the sample cut a character in two
            return sample[: exc.start].decode("utf-8-sig")
        raise Unreadable(
            f"{path.name} is not UTF-8 text (byte {exc.start + 1} cannot be read); "
            "save it as UTF-8, in Excel as CSV UTF-8"
        ) from None


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | found by csv.Sniffer; the header's commonest if it cannot."""
    complete = text[: text.rfind("\n") + 1] or text  # whole lines only
    try:
        return csv.Sniffer().sniff(complete, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = complete.splitlines()[0] if complete.strip() else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _read_header(source: Source, sample: str, whole_file: bool) -> None:
    source.delimiter = sniff_delimiter(sample)
    reader = csv.reader(io.StringIO(sample), delimiter=source.delimiter)
    rows = (row for row in reader if any(cell.strip() for cell in row))
    header = next(rows, None)
    if header is None:
        raise Unreadable(f"{source.path.name} is empty")
    if whole_file and next(rows, None) is None:
        raise Unreadable(f"{source.path.name} has a header but no lines to import")
    names = [cell.strip() for cell in header]
    if names[-2:] == REJECT_COLUMNS:  # a rejected-lines file, fixed and imported again
        names = names[:-2] + ["", ""]
    source.header = list(header)
    found = ", ".join(n for n in names if n) or "nothing"
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        key = name.lower()
        if not key:
            continue
        if key in seen:
            raise Unreadable(
                f'{source.path.name}: the column "{name}" appears twice in the header ({found})'
            )
        seen[key] = index
        if key in FIELDS[source.kind]:
            source.columns[index] = key
        else:
            source.attribute_columns[index] = name
    missing = [f for f in REQUIRED[source.kind] if f not in seen]
    if missing:
        what = ", ".join(f'"{m}"' for m in missing)
        columns = "column" if len(missing) == 1 else "columns"
        raise Unreadable(
            f"{source.path.name}: the required {columns} {what} "
            f"{'is' if len(missing) == 1 else 'are'} missing; the header found is: {found} "
            f"(read as {DELIMITER_NAMES[source.delimiter]}-separated)"
        )


def _is_utf8(cells: list[str]) -> bool:
    try:
        "".join(cells).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _jsonl_lines(handle: io.TextIOWrapper) -> Iterator[Line]:
    for number, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        yield _json_line(number, text.rstrip("\r\n"))


TOO_DEEP = "not valid JSON (it nests too deep to read)"
# A JSON string (escapes included) or a bracket: what `_nested_end` walks.
_STRING_OR_BRACKET = re.compile(JSON_STRING.pattern + r"|[\[\]{}]")


def _nested_end(text: str) -> int | None:
    """Where the bracketed JSON value at the start of `text` ends (brackets inside strings do
    not count), or None when it does not end within `text`. A loop, not a recursion: it
    finds the end of an item nested too deep for the json module to decode."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
        elif token in ("]", "}"):
            depth -= 1
            if depth == 0:
                return match.end()
    return None


def _json_line(number: int, text: str) -> Line:
    try:
        value = json.loads(text)
    except ValueError as exc:
        return Line(number, None, [text], f"not valid JSON ({_json_reason(exc)})")
    except RecursionError:  # its first 200 characters say which record it was
        return Line(number, None, [text[:200]], TOO_DEEP)
    if not isinstance(value, dict):
        return Line(number, None, [text], "not a JSON object")
    return Line(number, value, [text])


def _json_reason(exc: ValueError) -> str:
    return getattr(exc, "msg", None) or "it cannot be read"


def _json_array_lines(handle: io.TextIOWrapper, chunk_size: int = 1 << 16) -> Iterator[Line]:
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
                    text = buffer[:200]
                    yield Line(line, None, [text], f"not valid JSON ({_json_reason(exc)})")
                    return
                break  # the item continues in the next chunk
            except RecursionError:
                deep_end = _nested_end(buffer)
                if deep_end is None:
                    if not chunk:
                        yield Line(line, None, [buffer[:200]], TOO_DEEP)
                        return
                    break  # the item continues in the next chunk
                text = buffer[:deep_end]
                yield Line(line, None, [text[:200]], TOO_DEEP)
                line += text.count("\n")
                buffer = buffer[deep_end:]
                continue
            text = buffer[:end]
            if isinstance(item, dict):
                yield Line(line, item, [text])
            else:
                yield Line(line, None, [text], "not a JSON object")
            line += text.count("\n")
            buffer = buffer[end:]
        if not chunk:
            return
