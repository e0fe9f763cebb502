"""`xeno import`: a file's lines validated like the API's records and published in batches.

Good lines are stored, bad ones go to a rejected-lines file with their line number and
error, and nothing is dropped without a word. It streams: at any moment it holds one line,
the batches still in flight (at most IN_FLIGHT × 1000 records) and 8–16 bytes per id seen.

Ids repeated inside one file: every good line is published in file order, and upserts
applied in that order leave the last line of each id in place (a batch's store keeps the
last copy of an id, later batches overwrite earlier ones). Counting the repeats needs the
ids already seen, kept as their 64-bit hashes in a flat array (`SeenIds`), not as strings:
a 5-million-line file costs ~64 MB there instead of ~500 MB.
"""

from __future__ import annotations

import csv
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from xeno.ingest.cells import parse_amount, parse_date
from xeno.ingest.schemas import CustomerIn, OrderIn
from xeno.ingest.sources import REJECT_COLUMNS, Line, Source
from xeno.platform import streams
from xeno.platform.broker import embedded
from xeno.platform.records import MAX_RECORDS

MODELS = {"customers": CustomerIn, "orders": OrderIn}
DATE_FIELDS = {"customers": ("signup_at",), "orders": ("ordered_at",)}
LISTED = 20
IN_FLIGHT = 10  # batches published, not yet stored: 10,000 lines held at most
STALL_SECONDS = 1.0
PROGRESS_EVERY = 1000
WAIT_HINT_SECONDS = 30


@dataclass
class Report:
    """What an import did, for the summary."""

    read: int = 0
    stored: int = 0
    would_store: int = 0
    rejected: int = 0
    repeated: int = 0
    repeated_ids: int = 0
    repeated_lines: list[int] = field(default_factory=list)
    rejected_lines: list[tuple[int, str]] = field(default_factory=list)
    attribute_columns: list[str] = field(default_factory=list)
    rejected_path: Path | None = None
    seconds: float = 0.0


class StoreFailed(Exception):
    """Storing stopped part-way (the in-process consumer failed); `stored` lines are in."""

    def __init__(self, message: str, stored: int) -> None:
        super().__init__(message)
        self.stored = stored


class SeenIds:
    """The ids a file has shown so far, as 64-bit hashes in an open-addressing table.

    Two different ids sharing a hash (odds about 1 in 10^12 for a million ids) would be
    counted as a repeat; both lines are still stored, so only the count could be off.
    """

    def __init__(self) -> None:
        self._slots = array("q", bytes(8 * 1024))
        self._flags = bytearray(1024)  # 1 once the id in that slot has been repeated
        self._count = 0

    def add(self, key: str) -> int:
        """0 for a new id, 1 for its first repeat, 2 for a later one."""
        h = hash(key) or 1  # 0 marks an empty slot
        slots, mask = self._slots, len(self._slots) - 1
        i = h & mask
        while True:
            value = slots[i]
            if value == 0:
                slots[i] = h
                self._count += 1
                if self._count * 4 > len(slots) * 3:
                    self._grow()
                return 0
            if value == h:
                if self._flags[i]:
                    return 2
                self._flags[i] = 1
                return 1
            i = (i + 1) & mask

    def _grow(self) -> None:
        old_slots, old_flags = self._slots, self._flags
        self._slots = array("q", bytes(16 * len(old_slots)))
        self._flags = bytearray(2 * len(old_flags))
        mask = len(self._slots) - 1
        for h, flag in zip(old_slots, old_flags, strict=True):
            if h:
                i = h & mask
                while self._slots[i]:
                    i = (i + 1) & mask
                self._slots[i], self._flags[i] = h, flag


class RejectWriter:
    """The rejected lines as they were written, plus `line` and `error`, ready to fix."""

    def __init__(self, path: Path, source: Source) -> None:
        self.path, self.source = path, source
        self._handle: Any = None
        self._writer: Any = None

    def write(self, line: Line, error: str) -> None:
        """Add one rejected line."""
        if self._writer is None:
            self._open()
        if self.source.format != "csv":
            self._writer.writerow([line.number, error, *line.cells])
            return
        header = self.source.header
        width = len(header) - 2 if header[-2:] == REJECT_COLUMNS else len(header)
        cells = list(line.cells)
        if header[-2:] == REJECT_COLUMNS and len(cells) == len(header):
            cells = cells[:width]  # the previous attempt's line and error
        # `line` and `error` stay under their headings whatever the line's width; cells
        # past the header's width (the line's problem) follow them, none dropped.
        cells += [""] * (width - len(cells))
        self._writer.writerow([*cells[:width], line.number, error, *cells[width:]])

    def _open(self) -> None:
        encoding = "utf-8-sig" if self.source.bom else "utf-8"
        self._handle = self.path.open(
            "w", encoding=encoding, errors="surrogateescape", newline=""
        )
        self._writer = csv.writer(self._handle, delimiter=self.source.delimiter)
        if self.source.format == "csv":
            header = list(self.source.header)
            if header[-2:] == REJECT_COLUMNS:
                header = header[:-2]
            self._writer.writerow([*header, *REJECT_COLUMNS])
        else:
            self._writer.writerow([*REJECT_COLUMNS, "record"])

    @property
    def written(self) -> bool:
        """Whether any line was rejected into the file."""
        return self._writer is not None

    def close(self) -> None:
        """Flush and close the file, if one was opened."""
        if self._handle is not None:
            self._handle.close()


@dataclass
class _Batch:
    lines: list[Line]  # kept until the batch is stored, to report a line the database refused


class Importer:
    """One import of one file: validate, dedupe-count, publish, settle, report."""

    def __init__(
        self,
        source: Source,
        rejected_path: Path,
        date_format: str | None = None,
        dry_run: bool = False,
        progress: Callable[[int], None] | None = None,
        notify: Callable[[str], Any] | None = None,
    ) -> None:
        self.source, self.kind = source, source.kind
        self.model = MODELS[source.kind]
        self.date_format, self.dry_run = date_format, dry_run
        self.progress = progress or (lambda _: None)
        self.notify = notify or (lambda _: None)
        self.rejects = RejectWriter(rejected_path, source)
        self.report = Report(attribute_columns=list(source.attribute_columns.values()))
        self.seen = SeenIds()
        self.pending: list[dict[str, Any]] = []
        self.pending_lines: list[Line] = []
        self.in_flight: dict[str, _Batch] = {}
        self.published = self.database_rejected = 0
        self._shown = 0

    def run(self) -> Report:
        """Import every line; return the report (the rejected file is closed by then)."""
        started = time.monotonic()
        try:
            for count, line in enumerate(self.source.lines(), start=1):
                self._take(line)
                if count % PROGRESS_EVERY == 0:
                    self._show_progress()
            self._flush()
            self._wait(0)
        finally:
            self.rejects.close()
        self._show_progress()
        report = self.report
        report.seconds = time.monotonic() - started
        report.would_store = self.published - report.repeated - self.database_rejected
        report.stored = 0 if self.dry_run else report.would_store
        report.rejected_path = self.rejects.path if self.rejects.written else None
        return report

    def _show_progress(self) -> None:
        position = self.source.position
        self.progress(position - self._shown)
        self._shown = position

    def _take(self, line: Line) -> None:
        self.report.read += 1
        if line.record is None:
            self._reject(line, line.problem or "the line cannot be read")
            return
        message, problem = self._validate(line.record)
        if message is None:
            self._reject(line, problem or "the line cannot be read")
            return
        repeat = self.seen.add(message["id"])
        if repeat:
            self.report.repeated += 1
            self.report.repeated_ids += repeat == 1
            if len(self.report.repeated_lines) < LISTED:
                self.report.repeated_lines.append(line.number)
        self.published += 1
        if self.dry_run:
            return
        self.pending.append(message)
        self.pending_lines.append(line)
        if len(self.pending) == MAX_RECORDS:
            self._flush()

    def _validate(self, record: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The record's message form, or every problem with it as one sentence."""
        record, problems = self._convert(record)
        try:
            message = self.model.model_validate(record).message()
        except ValidationError as exc:
            skipped = {p.split(":")[0] for p in problems}
            for error in exc.errors(include_url=False):
                if not error["loc"] or str(error["loc"][0]) not in skipped:
                    problems.append(describe(error, self.kind))
        else:
            if not problems:
                return message, None
        return None, "; ".join(problems)

    def _convert(self, record: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Amounts with separators and currency marks, dates in --date-format, as the API's."""
        record, problems = dict(record), []
        value = record.get("amount")
        if self.kind == "orders" and isinstance(value, str):
            try:
                record["amount"] = str(parse_amount(value))
            except ValueError as exc:
                problems.append(f"amount: {exc}")
                record.pop("amount")
        for name in DATE_FIELDS[self.kind]:
            value = record.get(name)
            if self.date_format and isinstance(value, str):
                try:
                    record[name] = parse_date(value, self.date_format)
                except ValueError as exc:
                    problems.append(f"{name}: {exc}")
                    record.pop(name)
        return record, problems

    def _reject(self, line: Line, error: str) -> None:
        self.report.rejected += 1
        if len(self.report.rejected_lines) < LISTED:
            self.report.rejected_lines.append((line.number, error))
        self.rejects.write(line, error)

    def _flush(self) -> None:
        if not self.pending:
            return
        batch_id = streams.publish(self.kind, self.pending)
        self.in_flight[batch_id] = _Batch(self.pending_lines)
        self.pending, self.pending_lines = [], []
        self._collect_done()
        if embedded():  # publishing ran the drain in-process: not done means it failed
            if batch_id in self.in_flight:
                first = self.in_flight[batch_id].lines[0].number
                stored = self.published - len(self.in_flight[batch_id].lines) - self.report.repeated
                raise StoreFailed(
                    f"storing stopped at line {first}: the database did not take the lines "
                    "from there on; the lines before are stored, and importing the file "
                    "again is safe",
                    max(stored, 0),
                )
        elif len(self.in_flight) >= IN_FLIGHT:
            self._wait(IN_FLIGHT // 2)

    def _wait(self, at_most: int) -> None:
        """Wait until at most `at_most` batches are in flight.

        Workers store what this import publishes while it reads on, so reading and storing
        overlap. When no batch finishes for STALL_SECONDS (no worker runs, or they are busy)
        the import drains the stream itself, as one more consumer of the group.
        """
        progressed = started = time.monotonic()
        hinted = False
        while len(self.in_flight) > at_most:
            before = len(self.in_flight)
            self._collect_done()
            now = time.monotonic()
            if len(self.in_flight) < before:
                progressed = now
            elif now - progressed > STALL_SECONDS:
                if streams.drain_stream(self.kind, wait=False):
                    progressed = time.monotonic()
                    continue
                if not hinted and now - started > WAIT_HINT_SECONDS:
                    hinted = True  # another consumer holds entries of ours: it will finish
                    self.notify(
                        "Waiting for `xeno worker` to store lines it took from this import"
                        " (Ctrl-C stops waiting; what is published is stored all the same)."
                    )
            time.sleep(0.05)

    def _collect_done(self) -> None:
        """Take in every finished batch: count what the database refused, free its lines."""
        for batch_id in list(self.in_flight):
            status = streams.batch_status(batch_id)
            if status is None or status["status"] == "done":
                self._collect(batch_id, status)

    def _collect(self, batch_id: str, status: dict[str, Any] | None) -> None:
        batch = self.in_flight.pop(batch_id)
        for error in (status or {}).get("errors", []):
            index = int(error.get("index", -1))
            if 0 <= index < len(batch.lines):
                self.database_rejected += 1
                self._reject(batch.lines[index], f"the database refused it: {error['message']}")


def describe(error: dict[str, Any], kind: str) -> str:
    """One pydantic error as a sentence naming its field (no patterns, no reprs)."""
    where = ".".join(str(part) for part in error["loc"])
    kind_of = error["type"]
    if kind_of == "missing":
        return f"{where} is empty or missing"
    if kind_of == "extra_forbidden":
        return f"{where} is not a field of {kind}; free-form data goes under attributes"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message

