"""Named leases in the database: one holder at a time, taken over once they expire."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from console.database import is_postgres, write_transaction
from console.domain.calendar import utcnow
from console.extensions import db
from console.models import Lease


def acquire(name: str, holder: str, ttl: timedelta, *, now: datetime | None = None) -> bool:
    """Take or renew the lease; True when ``holder`` has it until now + ttl."""
    now = now or utcnow()
    with write_transaction():
        renewed = db.session.execute(
            update(Lease).where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
            .values(holder=holder, expires_at=now + ttl).execution_options(synchronize_session=False))
        if renewed.rowcount == 1:
            return True
        insert = pg_insert if is_postgres() else sqlite_insert
        created = db.session.execute(
            insert(Lease).values(name=name, holder=holder, expires_at=now + ttl)
            .on_conflict_do_nothing(index_elements=["name"]).returning(Lease.name))
        return created.scalar() is not None  # rowcount is not reliable for ON CONFLICT on every driver


def release(name: str, holder: str) -> None:
    with write_transaction():
        db.session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
