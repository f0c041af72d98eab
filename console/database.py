"""Database behaviour that both engines share, and what SQLite needs to behave under load.

SQLite: WAL (readers never wait for the writer), a busy timeout (writers wait instead of
failing), foreign keys on, and write transactions that take the write lock when they begin
(``BEGIN IMMEDIATE``), so that two writers queue up rather than one failing with "database is
locked" halfway. Read-only work keeps plain deferred transactions, so pages never queue behind
writers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

from console.extensions import db
from console.models import UTCDateTime

SQLITE_BUSY_TIMEOUT_MS = 15_000

_write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below emit BEGIN itself (pysqlite's own is deferred only).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[None]:
    """One use case, one transaction: commit on success, roll back on any error.

    A read transaction the request may have open is ended first, so that the write starts from
    a fresh snapshot with the write lock in hand (SQLite) and nothing half-done can leak.
    """
    session = db.session()  # the request's Session behind the scoped proxy
    if session.in_transaction():
        session.commit()
    token = _write_intent.set(True)
    try:
        with session.begin():
            yield
    finally:
        _write_intent.reset(token)


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def render_item(type_, obj, autogen_context):
    """Migrations spell our UTC column type as a plain timestamptz, not as an import of app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
