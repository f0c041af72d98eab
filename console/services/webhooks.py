"""Signed webhooks: every outbox event POSTed to every endpoint that wants its type, at least once,
in order per order, retried with backoff, dead-lettered when retries run out.

The jobs process calls ``deliver_pending`` under the scheduler's lease (one runner at a time). A
tick fans new events out to delivery rows, then sends the due ones in batches: at most one
delivery per (endpoint, order) per batch, and only that order's earliest pending one, so one
order's events arrive in sequence; different orders go out in parallel. What a POST answered is
written after it returns: a runner killed mid-batch sends those events again (at-least-once, with
the same event id, which receivers use to drop duplicates).

Answers: 2xx delivered; 410 Gone disables the endpoint (its deliveries wait, nothing is lost);
anything else, a timeout or a refused connection is retried after 30 s, doubling up to an hour,
with ±20 % jitter, until the delivery is ``WEBHOOK_RETRY_HOURS`` old; then it is dead and an admin
can replay it.

Signature (docs/webhooks.md): ``X-Console-Signature: sha256=<hex HMAC-SHA256 of "timestamp.body">``
with the endpoint's secret; while a secret is being rotated the previous one signs too, as a second
``sha256=…`` in the same header.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.orm import aliased

from console.database import write_transaction
from console.domain.applicant_texts import EVENT_TYPE_CODES
from console.domain.calendar import utcnow
from console.domain.text import CONTROL_RE
from console.extensions import db
from console.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from console.services.audit import audit
from console.services.errors import Invalid, NotFound
from console.services.outbox import event_json

BATCH = 200
THREADS = 8
FAN_OUT_CHUNK = 5000
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
ROTATION_HOURS = 24
USER_AGENT = "icp-console-webhooks/1"


# --- endpoints -------------------------------------------------------------------------------------

def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks, or None."""
    if not url or len(url) > 500:
        return "请填写地址（最多 500 个字符）"
    if CONTROL_RE.search(url) or any(ch.isspace() for ch in url):
        return "地址中不能有空白或控制字符"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "地址须以 https:// 或 http:// 开头，并包含主机名"
    if parts.username or parts.password:
        return "地址中不能包含用户名或密码（用签名验证来源）"
    if parts.fragment:
        return "地址中不能有 # 片段"
    return None


def types_problem(types: list[str]) -> str | None:
    unknown = [t for t in types if t not in EVENT_TYPE_CODES]
    return ("未知的事件类型：" + "、".join(unknown)) if unknown else None


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_endpoint(url: str, event_types: list[str], *, actor_id: int | None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint; its secret is returned once (shown to the admin, stored for signing). It
    receives events from now on (older ones are in the feed)."""
    url = (url or "").strip()
    problems = {k: [m] for k, m in (("url", url_problem(url)), ("event_types", types_problem(event_types))) if m}
    if problems:
        raise Invalid("接收地址无效", fields=problems)
    secret = new_secret()
    with write_transaction():
        last = db.session.scalar(select(func.max(OutboxEvent.id))) or 0
        endpoint = WebhookEndpoint(url=url, event_types=sorted(set(event_types)), secret=secret,
                                   created_at=utcnow(), created_by=actor_id, fanned_out_to=last)
        db.session.add(endpoint)
        db.session.flush()
        audit("webhook.create", actor_id=actor_id, target=f"webhook:{endpoint.id}", detail={"url": url})
    return endpoint, secret


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("接收地址不存在")
    return endpoint


def rotate_secret(endpoint_id: int, *, actor_id: int | None, now: datetime | None = None) -> str:
    """A new secret; the old one keeps signing (as a second signature) for ROTATION_HOURS."""
    now = now or utcnow()
    secret = new_secret()
    with write_transaction():
        endpoint = _endpoint(endpoint_id)
        endpoint.previous_secret, endpoint.secret = endpoint.secret, secret
        endpoint.previous_secret_until = now + timedelta(hours=ROTATION_HOURS)
        audit("webhook.rotate", actor_id=actor_id, target=f"webhook:{endpoint.id}")
    return secret


def set_active(endpoint_id: int, active: bool, *, actor_id: int | None) -> WebhookEndpoint:
    """Pause or resume an endpoint; resumed, its waiting deliveries go out at the next tick."""
    with write_transaction():
        endpoint = _endpoint(endpoint_id)
        endpoint.active = active
        endpoint.disabled_reason = "" if active else "管理员停用"
        if active:
            db.session.execute(update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id,
                                                             WebhookDelivery.status == "pending")
                               .values(next_attempt_at=utcnow()))
        audit("webhook.enable" if active else "webhook.disable", actor_id=actor_id, target=f"webhook:{endpoint.id}")
    return endpoint


def replay(endpoint_id: int, delivery_id: int | None = None, *, actor_id: int | None,
           now: datetime | None = None) -> int:
    """Dead deliveries (one, or all of the endpoint) go back to pending with a fresh retry window."""
    now = now or utcnow()
    with write_transaction():
        _endpoint(endpoint_id)
        where = [WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "dead"]
        if delivery_id is not None:
            where.append(WebhookDelivery.id == delivery_id)
        count = db.session.execute(update(WebhookDelivery).where(*where).values(
            status="pending", attempts=0, created_at=now, next_attempt_at=now)).rowcount
        audit("webhook.replay", actor_id=actor_id, target=f"webhook:{endpoint_id}",
              detail={"delivery": delivery_id, "count": count})
    return count


# --- signing -----------------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp.body``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(endpoint: WebhookEndpoint, event_id: int, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    signatures = [f"sha256={sign(endpoint.secret, timestamp, body)}"]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        signatures.append(f"sha256={sign(endpoint.previous_secret, timestamp, body)}")
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
            "X-Console-Event-Id": str(event_id), "X-Console-Timestamp": timestamp,
            "X-Console-Signature": ",".join(signatures)}


# --- delivering ----------------------------------------------------------------------------------

@dataclass
class Sent:
    delivery_id: int
    status: int | None
    error: str
    latency_ms: int


def fan_out(now: datetime) -> int:
    """Delivery rows for events no endpoint has been given yet (per endpoint, by its types)."""
    made = 0
    with write_transaction():
        for endpoint in db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all():
            events = select(OutboxEvent.id, OutboxEvent.order_id, OutboxEvent.type).where(
                OutboxEvent.id > endpoint.fanned_out_to).order_by(OutboxEvent.id).limit(FAN_OUT_CHUNK)
            rows = db.session.execute(events).all()
            if not rows:
                continue
            wanted = set(endpoint.event_types or EVENT_TYPE_CODES)
            deliveries = [{"endpoint_id": endpoint.id, "event_id": r.id, "order_id": r.order_id, "status": "pending",
                           "attempts": 0, "next_attempt_at": now, "created_at": now, "last_error": ""}
                          for r in rows if r.type in wanted]
            if deliveries:
                db.session.execute(insert(WebhookDelivery), deliveries)
            endpoint.fanned_out_to = rows[-1].id
            made += len(deliveries)
    return made


def _due(now: datetime, limit: int) -> list:
    earlier = aliased(WebhookDelivery)
    blocked = select(earlier.id).where(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                                       earlier.order_id == WebhookDelivery.order_id, earlier.status == "pending",
                                       earlier.event_id < WebhookDelivery.event_id).exists()
    return db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.event_id)
        .join(WebhookEndpoint, and_(WebhookEndpoint.id == WebhookDelivery.endpoint_id, WebhookEndpoint.active))
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, ~blocked)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)).all()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx (retried), never followed elsewhere."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (url_problem: http(s))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(65536)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, (type(reason).__name__ + ": " + str(reason))[:300]


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait after ``attempts`` failed attempts: 30 s doubling to an hour, ±20 % jitter."""
    base = min(FIRST_RETRY * (2 ** max(0, attempts - 1)), MAX_RETRY)
    return base * (rng or random).uniform(0.8, 1.2)


def _settle(results: list[Sent], now: datetime) -> dict:
    """Write what the POSTs answered: one attempt row each, and each delivery's new state (one
    executemany statement; a delivery replayed or settled meanwhile is left as it is)."""
    retry_window = timedelta(hours=current_app.config.get("WEBHOOK_RETRY_HOURS", 24))
    summary = {"delivered": 0, "failed": 0, "dead": 0, "disabled": 0}
    with write_transaction():
        db.session.execute(insert(WebhookAttempt), [
            {"delivery_id": r.delivery_id, "at": now, "status_code": r.status, "latency_ms": r.latency_ms,
             "error": r.error} for r in results])
        current = {d.id: d for d in db.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.attempts,
                   WebhookDelivery.created_at)
            .where(WebhookDelivery.id.in_([r.delivery_id for r in results]),
                   WebhookDelivery.status == "pending")).all()}
        changes, gone = [], set()
        for r in results:
            d = current.get(r.delivery_id)
            if d is None:
                continue
            change = {"d_id": d.id, "attempts": d.attempts + 1, "last_status": r.status, "last_error": r.error,
                      "status": "pending", "delivered_at": None, "next_attempt_at": now}
            if r.status is not None and 200 <= r.status < 300:
                change.update(status="delivered", delivered_at=now)
                summary["delivered"] += 1
            elif r.status == 410:
                gone.add(d.endpoint_id)  # waits (next_attempt_at now) until the endpoint is enabled again
            elif now - d.created_at >= retry_window:
                change["status"] = "dead"
                summary["dead"] += 1
            else:
                change["next_attempt_at"] = now + backoff(d.attempts + 1)
                summary["failed"] += 1
            changes.append(change)
        if changes:
            table = WebhookDelivery.__table__
            db.session.execute(
                update(table).where(table.c.id == bindparam("d_id"), table.c.status == "pending")
                .values(attempts=bindparam("attempts"), last_status=bindparam("last_status"),
                        last_error=bindparam("last_error"), status=bindparam("status"),
                        delivered_at=bindparam("delivered_at"), next_attempt_at=bindparam("next_attempt_at")),
                changes)
        if gone:
            summary["disabled"] = db.session.execute(
                update(WebhookEndpoint).where(WebhookEndpoint.id.in_(gone), WebhookEndpoint.active)
                .values(active=False, disabled_reason="接收方返回 410 Gone，已自动停用")).rowcount
    return summary


def deliver_batch(now: datetime | None = None) -> dict | None:
    """One batch of due deliveries, sent in parallel; None when nothing was due."""
    due = _due(now or utcnow(), BATCH)
    if not due:
        return None
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    endpoints = {e.id: e for e in db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.id.in_({d.endpoint_id for d in due})))}
    events = {e.id: e for e in db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.id.in_([d.event_id for d in due])))}
    db.session.rollback()  # no transaction stays open while the POSTs wait on the network
    jobs = []
    for d in due:
        endpoint, event = endpoints[d.endpoint_id], events[d.event_id]
        body = json.dumps(event_json(event), ensure_ascii=False, separators=(",", ":")).encode()
        jobs.append((d.id, endpoint.url, body, signed_headers(endpoint, event.id, body, utcnow())))

    def send(job) -> Sent:
        delivery_id, url, body, headers = job
        started = time.perf_counter()
        status, error = _post(url, body, headers, timeout)
        return Sent(delivery_id, status, error, int((time.perf_counter() - started) * 1000))

    with ThreadPoolExecutor(max_workers=min(THREADS, len(jobs))) as pool:
        results = list(pool.map(send, jobs))
    summary = _settle(results, now or utcnow())  # the answers' time (tests pass a fixed one)
    summary["sent"] = len(results)
    return summary


def deliver_pending(*, now: datetime | None = None, keep_going: Callable[[], bool] = lambda: True,
                    budget_seconds: float = 50.0) -> dict:
    """The jobs tick: fan out, then batches until nothing is due, the time budget is spent or the
    lease is lost (``keep_going``)."""
    fixed = now
    total = {"fanned_out": fan_out(fixed or utcnow()), "sent": 0, "delivered": 0, "failed": 0, "dead": 0,
             "disabled": 0}
    started = time.monotonic()
    while time.monotonic() - started < budget_seconds and keep_going():
        summary = deliver_batch(fixed)
        if summary is None:
            break
        for key, value in summary.items():
            total[key] += value
    return total


# --- what admins see ---------------------------------------------------------------------------

def overview(*, now: datetime | None = None) -> dict:
    """Endpoints with their backlog and dead letters, recent attempts, the outbox's size."""
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    counts = {(endpoint_id, status): n for endpoint_id, status, n in db.session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_(("pending", "dead")))
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status))}
    last_event = db.session.scalar(select(func.max(OutboxEvent.id))) or 0

    def waiting(endpoint) -> int:  # events not yet given a delivery row (a range of the primary key)
        return db.session.scalar(select(func.count()).where(OutboxEvent.id > endpoint.fanned_out_to)) or 0
    dead = db.session.execute(
        select(WebhookDelivery, OutboxEvent.type, OutboxEvent.order_no, OutboxEvent.sequence)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.status == "dead").order_by(WebhookDelivery.id.desc()).limit(100)).all()
    attempts = db.session.execute(
        select(WebhookAttempt, WebhookDelivery.endpoint_id, WebhookDelivery.event_id)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .order_by(WebhookAttempt.id.desc()).limit(50)).all()
    return {"endpoints": [{"endpoint": e, "pending": counts.get((e.id, "pending"), 0),
                           "dead": counts.get((e.id, "dead"), 0),
                           "not_fanned_out": waiting(e)} for e in endpoints],
            "dead": dead, "attempts": attempts, "last_event": last_event}
