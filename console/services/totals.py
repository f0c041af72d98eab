"""Running totals (monotonic counters), added to in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from console.database import is_postgres
from console.extensions import db
from console.models import Total

MAILS_SENT = "alert_mails_sent"
MAILS_FAILED = "alert_mails_failed"


def add(name: str, amount: int) -> None:
    """``name`` grows by ``amount`` (one upsert; call inside a write transaction)."""
    if amount:
        insert = pg_insert if is_postgres() else sqlite_insert
        stmt = insert(Total).values(name=name, value=amount)
        db.session.execute(stmt.on_conflict_do_update(index_elements=["name"],
                                                      set_={"value": Total.value + stmt.excluded.value}))


def all_totals() -> dict[str, int]:
    return {name: value for name, value in db.session.execute(select(Total.name, Total.value))}
