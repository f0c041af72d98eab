"""Scalar settings with defaults; stored values win.

Every signed-in request reads two of them (the session's idle and absolute limits), so a web process
keeps what it read for ``TTL_SECONDS``: a poll then costs no statement for them. A change made here
is seen at once by this process and within ``TTL_SECONDS`` by the others (other gunicorn workers);
background jobs always read the table."""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import select

from console.database import write_transaction
from console.domain.calendar import utcnow
from console.extensions import db
from console.models import Setting
from console.services.errors import Invalid
from console.services.kept import forget, kept

#: key -> (default, minimum, maximum, 中文 label)
DEFAULTS: dict[str, tuple[int, int, int, str]] = {
    "session_idle_minutes": (30, 5, 480, "空闲超时（分钟）"),
    "session_max_hours": (12, 1, 72, "登录最长有效期（小时）"),
    "sweep_interval_minutes": (1, 1, 60, "超时扫描间隔（分钟）"),
    "escalate_after_working_hours": (4, 1, 80, "超时未确认多久后升级（工作小时）"),
    "sweep_stale_minutes": (10, 2, 1440, "超时扫描多久未成功视为异常（分钟）"),
    "min_service_days": (30, 0, 365, "云产品剩余服务期至少（天）"),
    "max_orders_per_instance": (5, 1, 100, "同一实例最多用于几个订单"),
}


def _load() -> dict:
    values = {key: spec[0] for key, spec in DEFAULTS.items()}
    for row in db.session.scalars(select(Setting)):
        if row.key in values and isinstance(row.value, dict) and isinstance(row.value.get("v"), int):
            values[row.key] = row.value["v"]
    return values


#: How long a web process trusts the settings it read (see the module's docstring).
TTL_SECONDS = 5.0


def all_settings() -> dict:
    if has_request_context():
        if "console_settings" not in g:
            g.console_settings = kept("console_settings", TTL_SECONDS, _load)
        return g.console_settings
    return _load()


def get_setting(key: str) -> int:
    return all_settings()[key]


def set_setting(key: str, value: int, *, actor_id: int | None) -> None:
    set_settings({key: value}, actor_id=actor_id)


def set_settings(values: dict[str, int], *, actor_id: int | None) -> None:
    """Store several settings at once: all of them, or none when one is out of range."""
    fields = {}
    for key, value in values.items():
        _default, low, high, label = DEFAULTS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fields[key] = [f"{label}须在 {low} 到 {high} 之间"]
    if fields:
        raise Invalid("设置无效", fields=fields)
    with write_transaction():
        for key, value in values.items():
            row = db.session.get(Setting, key)
            if row is None:
                row = Setting(key=key)
                db.session.add(row)
            row.value, row.updated_at, row.updated_by = {"v": value}, utcnow(), actor_id
    forget("console_settings")
    if has_request_context():
        g.pop("console_settings", None)
