"""Bulk upserts: one set-based write per chunk, whatever the backend.

MySQL takes big chunks through `LOAD DATA LOCAL INFILE` into a session-private staging
table and one `INSERT … SELECT … ON DUPLICATE KEY UPDATE`: the server parses a tab-separated
file far faster than PyMySQL escapes a multi-row statement, which matters on a machine
where the web workers, the consumer and the database share two cores. Small chunks go as one
multi-row statement. SQLite (embedded mode) uses SQLAlchemy's `ON CONFLICT` insert.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.dialects import sqlite

CHUNK = 5000
LOAD_DATA_MIN_ROWS = 500
_NULL = "\\N"
_TSV_SPECIAL = re.compile(r"[\\\t\n\r\0]")
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    update_cols: Iterable[str],
    key: str = "external_id",
    version: str | None = None,
) -> None:
    """Insert rows or update them by unique `key`; all rows share the same keys.

    With `version` (a column every row carries), a stored row is only updated by a row of
    the same or a newer version: a record delivered late never reverts a newer one.
    """
    if not rows:
        return
    cols = tuple(update_cols)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        if conn.dialect.name != "mysql":
            stmt = sqlite.insert(table)
            set_ = {c: stmt.excluded[c] for c in cols + ((version,) if version else ())}
            where = stmt.excluded[version] >= table.c[version] if version else None
            stmt = stmt.on_conflict_do_update(index_elements=[key], set_=set_, where=where)
            conn.execute(stmt, list(chunk))
        elif len(chunk) >= LOAD_DATA_MIN_ROWS and _load_data_allowed(conn):
            _load_data_upsert(conn, table, chunk, cols, version)
        else:
            names = tuple(chunk[0])
            values = [tuple(r[c] for c in names) for r in chunk]
            _multirow(conn, table, names, values, cols, version)


_local_infile: dict[str, bool] = {}


def _load_data_allowed(conn: Connection) -> bool:
    """MySQL 8 ships with local_infile off; such a server gets multi-row statements instead."""
    url = conn.engine.url.render_as_string(hide_password=True)
    if url not in _local_infile:
        value = conn.exec_driver_sql("SELECT @@GLOBAL.local_infile").scalar()
        _local_infile[url] = str(value).upper() in {"1", "ON"}
    return _local_infile[url]


def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.columns if isinstance(c.type, JSON))


def _multirow(
    conn: Connection,
    table: Table,
    names: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    update_cols: tuple[str, ...] = (),
    version: str | None = None,
) -> None:
    """One multi-row INSERT of plain tuples through PyMySQL; an upsert with `update_cols`."""
    json_cols = _json_columns(table)
    flags = [name in json_cols for name in names]
    params = [tuple(map(_driver_value, row, flags)) for row in rows]
    values = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO `{table.name}` ({_columns(names)}) VALUES ({values})"
    if update_cols:
        sql += " " + _on_duplicate(table.name, update_cols, version)
    conn.exec_driver_sql(sql, params)


def _load_data_upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    update_cols: tuple[str, ...],
    version: str | None,
) -> None:
    """Stage the rows with LOAD DATA, then upsert them with one INSERT … SELECT."""
    names = tuple(rows[0])
    stage = f"stage_{table.name}"
    columns = _columns(names)
    # A TEMPORARY table is private to this connection and needs no cleanup between uses.
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS `{stage}` {_stage_engine(conn)}"
        f"SELECT {columns} FROM `{table.name}` LIMIT 0"
    )
    conn.exec_driver_sql(f"DELETE FROM `{stage}`")
    json_cols = _json_columns(table)
    _load_file(conn, stage, names, [[r[c] for r in rows] for c in names], json_cols)
    conn.exec_driver_sql(
        f"INSERT INTO `{table.name}` ({columns}) SELECT {columns} FROM `{stage}` "
        + _on_duplicate(table.name, update_cols, version)
    )


def insert_rows(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert new rows (tuples in the order of `names`) that no key can already hold.

    On MySQL big chunks go straight into the table with LOAD DATA (no staging: nothing
    to merge); note that LOAD DATA LOCAL skips a duplicate key where INSERT would fail.
    """
    if not rows:
        return
    names = tuple(names)
    if conn.dialect.name != "mysql":
        conn.execute(table.insert(), [dict(zip(names, r, strict=True)) for r in rows])
    elif len(rows) >= LOAD_DATA_MIN_ROWS and _load_data_allowed(conn):
        columns = [list(values) for values in zip(*rows, strict=True)]
        _load_file(conn, table.name, names, columns, _json_columns(table))
    else:
        _multirow(conn, table, names, rows)


def _load_file(
    conn: Connection,
    table_name: str,
    names: tuple[str, ...],
    columns: list[list[Any]],
    json_cols: frozenset[str],
) -> None:
    """Write column-major values as one tab-separated file and LOAD DATA it into a table."""
    pairs = zip(names, columns, strict=True)
    texts = [_tsv_column(values, name in json_cols) for name, values in pairs]
    text = "".join(f"{line}\n" for line in map("\t".join, zip(*texts, strict=True)))
    fd, path = tempfile.mkstemp(prefix="xeno-", suffix=".tsv", dir=_scratch_dir())
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        with _local_files_allowed(conn):
            conn.exec_driver_sql(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE `{table_name}` CHARACTER SET utf8mb4"
                f" ({_columns(names)})",
                (path,),
            )
    finally:
        os.unlink(path)


@contextmanager
def _local_files_allowed(conn: Connection) -> Iterator[None]:
    """Let this connection send a local file for the one LOAD DATA statement it runs now.

    Connections announce the capability (the server refuses LOAD DATA LOCAL otherwise) but
    keep PyMySQL's own switch off (`config.engine_options`), so a server — or a query —
    asking any other statement for a client file gets nothing.
    """
    raw = conn.connection.dbapi_connection
    raw._local_infile = True  # PyMySQL reads this flag when the server asks for the file
    try:
        yield
    finally:
        raw._local_infile = False


def _stage_engine(conn: Connection) -> str:
    """MariaDB's Aria: a staging table needs no transactions.

    Skipping InnoDB's undo and redo for it cut the database's CPU per stored row by a
    fifth (300k customers, `bench/ingest.py`'s table). MySQL has no Aria; its default does.
    """
    return "ENGINE=Aria " if getattr(conn.dialect, "is_mariadb", False) else ""


@lru_cache(maxsize=1)
def _scratch_dir() -> str | None:
    """RAM-backed when available: the file lives for one statement."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def _columns(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


@lru_cache(maxsize=32)
def _on_duplicate(table: str, update_cols: tuple[str, ...], version: str | None = None) -> str:
    if not version:
        updates = ", ".join(f"`{c}` = VALUES(`{c}`)" for c in update_cols)
        return f"ON DUPLICATE KEY UPDATE {updates}"
    # MySQL assigns left to right and later assignments see earlier ones: the version,
    # which every other assignment compares against, is assigned last. Stored columns are
    # named with their table: after INSERT … SELECT the staging table has them too.
    held = f"`{table}`.`{version}`"
    newer = f"VALUES(`{version}`) >= {held}"
    updates = ", ".join(
        f"`{table}`.`{c}` = IF({newer}, VALUES(`{c}`), `{table}`.`{c}`)" for c in update_cols
    )
    return f"ON DUPLICATE KEY UPDATE {updates}, {held} = GREATEST({held}, VALUES(`{version}`))"


def _driver_value(value: Any, is_json: bool) -> Any:
    """Pre-format what PyMySQL escapes slowly (datetimes) and what it cannot (JSON)."""
    if value is None:
        return None
    if is_json:
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat(" ")
    return value


def _tsv_column(values: list[Any], is_json: bool) -> list[str]:
    """One column's LOAD DATA fields: \\N is NULL; backslash, tab and newline are escaped.

    Column by column, with one conversion chosen per column, because this loop runs for
    every field of every row a worker stores.
    """
    if is_json:
        values = [None if v is None else json.dumps(v) for v in values]
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, datetime):
        if all(v is sample for v in values):  # the batch's own timestamp: format it once
            return [sample.isoformat(" ")] * len(values)
        return [_NULL if v is None else v.isoformat(" ") for v in values]
    texts = [None if v is None else str(v) for v in values]
    if _TSV_SPECIAL.search("".join(t for t in texts if t is not None)):  # rare: escape only then
        texts = [None if t is None else t.translate(_TSV_ESCAPES) for t in texts]
    return [_NULL if t is None else t for t in texts]
