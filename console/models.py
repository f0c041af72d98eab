"""SQLAlchemy 2 typed models. Times are stored as UTC; pages show them in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both SQLite (stored naive) and PostgreSQL (timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None or value.tzinfo is UTC:  # PostgreSQL sessions run in UTC (console.config)
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # specialist | supervisor | admin
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped to end every open session of the user (logout, deactivation, "sign out everywhere").
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: Where a decision leads (console.domain.roles.AFTER_DECISION): the next order, the queue, or
    #: the decided order.
    after_decision: Mapped[str] = mapped_column(String(8), default="next", server_default="next")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Order(db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_state_due", "state", "due_at", "id"),
        # Queues (console.services.queues.URGENCY): deadline, then first in, then id.
        Index("ix_orders_queue_urgency", "queue", "due_at", "stage_entered_at", "id"),
        Index("ix_orders_queue_province_urgency", "queue", "province", "due_at", "stage_entered_at", "id"),
        Index("ix_orders_assignee_queue_urgency", "assignee_id", "queue", "due_at", "stage_entered_at", "id"),
        # The supervisors' board (console.services.supervision.board), open orders only: overdue
        # and due-soon per person as index-only ranges, the oldest per person and state as probes.
        Index("ix_orders_open_due", "due_at", "assignee_id",
              postgresql_where=text("queue IS NOT NULL"), sqlite_where=text("queue IS NOT NULL")),
        Index("ix_orders_open_soon", "due_soon_at", "due_at", "assignee_id",
              postgresql_where=text("queue IS NOT NULL"), sqlite_where=text("queue IS NOT NULL")),
        Index("ix_orders_open_age", "state", "assignee_id", "stage_entered_at",
              postgresql_where=text("queue IS NOT NULL"), sqlite_where=text("queue IS NOT NULL")),
        # The oldest unclaimed order of a queue (/metrics): one probe of this partial index.
        Index("ix_orders_unclaimed_age", "queue", "stage_entered_at",
              postgresql_where=text("queue IS NOT NULL AND assignee_id IS NULL"),
              sqlite_where=text("queue IS NOT NULL AND assignee_id IS NULL")),
        Index("ix_orders_cert_number_state", "subject_cert_number", "state"),
        Index("ix_orders_website_filing_number", "website_filing_number"),
        Index("ix_orders_subject_filing_number", "subject_filing_number"),
        Index("ix_orders_principal_mobile", "principal_mobile"),
        # Global search (console/services/search.py): one index per identifier a caller reads out,
        # and trigram indexes for fragments of the names (PostgreSQL; a plain index on SQLite).
        Index("ix_orders_principal_mobile2", "principal_mobile2"),
        Index("ix_orders_product_instance_id", "product_instance_id"),  # one instance, how many orders
        Index("ix_orders_principal_emergency_phone", "principal_emergency_phone"),
        Index("ix_orders_principal_id_number", "principal_id_number"),
        Index("ix_orders_principal_email_lower", func.lower(text("principal_email"))),
        Index("ix_orders_principal_name", "principal_name"),
        Index("ix_orders_result_filing_number", "result_filing_number"),
        Index("ix_orders_subject_name_trgm", "subject_name", postgresql_using="gin",
              postgresql_ops={"subject_name": "gin_trgm_ops"}),
        Index("ix_orders_website_name_trgm", "website_name", postgresql_using="gin",
              postgresql_ops={"website_name": "gin_trgm_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    #: The work queue the state belongs to (None: in none). Derived from state, but stored: a queue
    #: of two states ordered by due date is then one index range, not a sort of every open order.
    queue: Mapped[str | None] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # latest submission
    first_submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # decides the SMS rule
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When the stage enters its last fifth (due soon); None for untimed states.
    due_soon_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the overdue sweep must next look at this order (None: nothing pending). The sweep reads
    #: only rows with next_alert_at <= now, so its cost follows the alerts to create, not the table.
    next_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Fingerprint of the body that created the order (idempotent re-posts).
    intake_hash: Mapped[str] = mapped_column(String(64))
    #: Fingerprint of the latest submission (creation or resubmission).
    submission_hash: Mapped[str] = mapped_column(String(64))
    submission_round: Mapped[int] = mapped_column(Integer, default=1)
    mailing_required: Mapped[bool] = mapped_column(Boolean, default=False)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    warning_count: Mapped[int] = mapped_column(Integer, default=0)
    findings: Mapped[list] = mapped_column(JSON, default=list)
    result_filing_number: Mapped[str | None] = mapped_column(String(40))
    mail_round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    courier: Mapped[str] = mapped_column(String(20), default="", server_default="")
    tracking_no: Mapped[str] = mapped_column(String(40), default="", server_default="")
    sms_resends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The sequence number of the order's last outbound event (console.services.outbox): raised
    #: by an UPDATE in the change's own transaction, so concurrent changes never share a number.
    event_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    subject_type: Mapped[str] = mapped_column(String(20))
    subject_name: Mapped[str] = mapped_column(String(100))
    subject_cert_type: Mapped[str] = mapped_column(String(20))
    subject_cert_number: Mapped[str] = mapped_column(String(50))
    cert_province: Mapped[str] = mapped_column(String(20))
    cert_city: Mapped[str] = mapped_column(String(50), default="")
    cert_district: Mapped[str] = mapped_column(String(50), default="")
    cert_detail: Mapped[str] = mapped_column(String(200))
    mail_province: Mapped[str] = mapped_column(String(20))
    mail_city: Mapped[str] = mapped_column(String(50), default="")
    mail_district: Mapped[str] = mapped_column(String(50), default="")
    mail_detail: Mapped[str] = mapped_column(String(200))
    address_remark: Mapped[str] = mapped_column(String(200), default="")
    legal_representative: Mapped[str] = mapped_column(String(50), default="", server_default="")
    subject_filing_number: Mapped[str] = mapped_column(String(40), default="")
    website_name: Mapped[str] = mapped_column(String(100))
    website_filing_number: Mapped[str] = mapped_column(String(40), default="")
    previous_provider: Mapped[str] = mapped_column(String(100), default="")
    main_domain: Mapped[str] = mapped_column(String(253), default="")
    principal_name: Mapped[str] = mapped_column(String(50))
    principal_id_type: Mapped[str] = mapped_column(String(20))
    principal_id_number: Mapped[str] = mapped_column(String(50))
    principal_mobile: Mapped[str] = mapped_column(String(30))
    principal_mobile2: Mapped[str] = mapped_column(String(30), default="")
    principal_email: Mapped[str] = mapped_column(String(254), default="")
    principal_emergency_phone: Mapped[str] = mapped_column(String(30), default="")
    product_instance_id: Mapped[str] = mapped_column(String(100), default="")
    product_region: Mapped[str] = mapped_column(String(50), default="")
    product_public_ip: Mapped[str] = mapped_column(String(45), default="")
    product_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    product_owner_account: Mapped[str] = mapped_column(String(100), default="", server_default="")
    product_service_end: Mapped[str] = mapped_column(String(10), default="", server_default="")  # YYYY-MM-DD
    applicant_account: Mapped[str] = mapped_column(String(100), default="", server_default="")
    filing_password_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    identity_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    original_filing: Mapped[dict] = mapped_column(JSON, default=dict)

    assignee: Mapped[User | None] = relationship(lazy="joined", innerjoin=False)

    @property
    def assignee_name(self) -> str | None:
        """As queue rows carry it (queue pages read plain rows, not orders)."""
        return self.assignee.display_name if self.assignee else None
    # Loaded on access (one query for one order); queue pages never touch them.
    domains: Mapped[list[OrderDomain]] = relationship(
        order_by="OrderDomain.position", cascade="all, delete-orphan", lazy="select"
    )
    materials: Mapped[list[OrderMaterial]] = relationship(
        order_by="OrderMaterial.position", cascade="all, delete-orphan", lazy="select"
    )


class OrderDomain(db.Model):
    __tablename__ = "order_domains"
    __table_args__ = (Index("ix_order_domains_domain", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    domain: Mapped[str] = mapped_column(String(253))  # as submitted, lower case (Unicode for IDN)


class OrderMaterial(db.Model):
    __tablename__ = "order_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(500), default="")
    #: A reviewer found the file is not what its kind says (it then does not count as that kind).
    wrong_kind: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class OrderEvent(db.Model):
    """Append-only history: every change to an order, who made it and what it changed."""

    __tablename__ = "order_events"
    __table_args__ = (
        Index("ix_order_events_order_at", "order_id", "id"),
        # statistics and the board's decisions per person: covering, so an index-only scan
        Index("ix_order_events_at_action", "at", "action", "actor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(100))  # user name, "portal:<token>", "system"
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # coded reasons
    note: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {path: [old, new]}

    actor: Mapped[User | None] = relationship(lazy="joined")


class ProvinceRuleRow(db.Model):
    """A supervisor's override of a province's default rule (absent row: the defaults)."""

    __tablename__ = "province_rules"

    province: Mapped[str] = mapped_column(String(10), primary_key=True)
    sms_required_from: Mapped[date | None] = mapped_column(Date)
    sms_never: Mapped[bool] = mapped_column(Boolean, default=False)
    bureau_limit_days: Mapped[int | None] = mapped_column(Integer)
    mailing_required: Mapped[bool] = mapped_column(Boolean, default=False)
    mailing_items: Mapped[list] = mapped_column(JSON, default=list)
    mailing_address: Mapped[str] = mapped_column(String(300), default="")
    consistency_required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Material kinds required in this province beyond those of the subject type.
    required_materials: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SlaLimitRow(db.Model):
    __tablename__ = "sla_limits"

    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalendarOverride(db.Model):
    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalendarYear(db.Model):
    """A year whose official schedule a supervisor has entered (its overrides are complete)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEntry(db.Model):
    """Security-relevant events that are not changes to an order (sign-ins, roles, tokens)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class LoginAttempt(db.Model):
    """Failed sign-ins, counted per account and per address for throttling (shared by workers)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))


class Setting(db.Model):
    """Small scalar settings that supervisors or admins change (session timeouts, …)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class JobRun(db.Model):
    """One run of a scheduled job (or a CLI sweep): what it did and whether it failed."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")


class Total(db.Model):
    """A running total kept in the same transaction as what it counts (alert mails sent and
    failed): monotonic counters for /metrics that cost one row read, whatever the tables hold."""

    __tablename__ = "totals"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Lease(db.Model):
    """A named lease (single scheduler runner); expired leases may be taken over."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


__all__ = [
    "Absence",
    "Alert",
    "ApiToken",
    "AuditEntry",
    "BureauImport",
    "CalendarOverride",
    "CalendarYear",
    "CallAttempt",
    "JobRun",
    "Lease",
    "LoginAttempt",
    "Order",
    "OrderDomain",
    "OrderEvent",
    "OrderMaterial",
    "OrderNote",
    "OrderViewer",
    "ProvinceRuleRow",
    "RejectionReason",
    "Setting",
    "Shipment",
    "SlaLimitRow",
    "Total",
    "User",
]


class RejectionReason(db.Model):
    """A supervisor's addition to (or relabelling / retirement of) the reason catalogue."""

    __tablename__ = "rejection_reasons"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CallAttempt(db.Model):
    """A phone call to the applicant during 初审 (DOMAIN.md, "Calling the applicant")."""

    __tablename__ = "order_calls"
    __table_args__ = (Index("ix_order_calls_order_at", "order_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    number: Mapped[str] = mapped_column(String(30))
    reached: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(500), default="")

    actor: Mapped[User | None] = relationship(lazy="joined")


class OrderNote(db.Model):
    """An internal note on an order (never shown to the applicant)."""

    __tablename__ = "order_notes"
    __table_args__ = (Index("ix_order_notes_order_at", "order_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(lazy="joined")


class OrderViewer(db.Model):
    """Who has an order's workspace open (a heartbeat every few seconds)."""

    __tablename__ = "order_viewers"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(db.Model):
    """One alert per order, stage entry and kind (the sweep may run twice, or twice at once)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("order_id", "stage_entered_at", "kind", name="uq_alerts_order_stage_kind"),
        Index("ix_alerts_recipient_ack", "recipient_id", "acknowledged_at", "id"),
        Index("ix_alerts_ack_id", "acknowledged_at", "id"),
        # Mail still to (re)try: only alerts whose sending failed carry a next attempt.
        Index("ix_alerts_email_next", "email_next_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # due_soon | overdue | escalated | sms_expiring | bureau_overdue
    #: The assignee; None means the supervisors (unassigned orders, escalations).
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Failed sends so far, and when the sweep tries again (None: sent, never tried, or given up).
    email_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    email_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(lazy="joined")


class Shipment(db.Model):
    """One round of mailed paper materials: shipped, received, checked item by item."""

    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("order_id", "round", name="uq_shipments_order_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    courier: Mapped[str] = mapped_column(String(20))
    tracking_no: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_on: Mapped[date | None] = mapped_column(Date)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(10))  # passed | failed
    items: Mapped[list] = mapped_column(JSON, default=list)  # [{item, status: ok|missing|defective, note}]


class BureauImport(db.Model):
    """A file of bureau results: previewed row by row, then applied, one transaction per row."""

    __tablename__ = "bureau_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # previewed | queued | applying | done
    #: Who pressed 应用 (the jobs process applies the rows in their name) and when the applying
    #: runner last reported progress: an old heartbeat while applying means the runner died.
    applied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    applied: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[list] = mapped_column(JSON, default=list)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Filing(db.Model):
    """A website filing this provider already holds: the registry of filings made before the
    console (imported by admins). 新增接入 / 继续接入, 主体冲突 and the original-filing comparison
    read it beside the console's own approved orders. One row per website filing number."""

    __tablename__ = "filings"
    __table_args__ = (
        Index("ix_filings_certificate_number", "certificate_number"),
        Index("ix_filings_subject_filing_number", "subject_filing_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    website_filing_number: Mapped[str] = mapped_column(String(40), unique=True)
    subject_filing_number: Mapped[str] = mapped_column(String(40))
    subject_name: Mapped[str] = mapped_column(String(200))
    certificate_number: Mapped[str] = mapped_column(String(40))
    website_name: Mapped[str] = mapped_column(String(200), default="")
    domains: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active | cancelled
    import_id: Mapped[int | None] = mapped_column(ForeignKey("filing_imports.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FilingImport(db.Model):
    """A registry file: previewed row by row, then applied in one set-based pass."""

    __tablename__ = "filing_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # previewed | applying | done
    total: Mapped[int] = mapped_column(Integer, default=0)
    applied: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    rechecked: Mapped[int] = mapped_column(Integer, default=0)  # open orders whose findings were re-run
    rows: Mapped[list] = mapped_column(JSON, default=list)
    applied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkCountDelta(db.Model):
    """Open orders per (queue, state, assignee), kept as a running sum of deltas.

    Database triggers on ``orders`` (migration 'open-work counters') add +1 / -1 rows in the same
    transaction as any change of an order's queue, state or assignee — ORM writes, bulk UPDATEs,
    COPY alike — so counts are exact right after a claim or a decision. Writers only INSERT: no
    counter row is locked, so concurrent claims never wait on each other or deadlock. Readers sum
    by key; the sweep compacts the rows to one per key (``console.services.workcounts``), so a read
    costs the number of keys plus the changes of the last minute, not the number of orders.
    ``assignee_id`` 0 stands for unassigned.

    SQLite's batch migrations recreate a table and drop its triggers: a migration that alters
    ``orders`` in batch mode must create the triggers again (tests/test_workcounts.py checks).
    """

    __tablename__ = "work_count_deltas"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    queue: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    assignee_id: Mapped[int] = mapped_column(Integer)
    delta: Mapped[int] = mapped_column(Integer)


class Absence(db.Model):
    """A specialist away between two dates (inclusive): shown on the board, no new assignments."""

    __tablename__ = "absences"
    __table_args__ = (Index("ix_absences_user_dates", "user_id", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# --- outbound events (issue: the portal hears of every change) -------------------------------

class OutboxEvent(db.Model):
    """Something the applicant should hear of, written in the same transaction as the change.
    The id orders the feed (its cursor); ``sequence`` orders one order's events."""

    __tablename__ = "outbox_events"
    __table_args__ = (UniqueConstraint("order_id", "sequence", name="uq_outbox_events_order_sequence"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    order_no: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class WebhookEndpoint(db.Model):
    """A portal address that receives events as signed POSTs. While a secret is rotated the
    previous one signs too, until ``previous_secret_until``."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    event_types: Mapped[list] = mapped_column(JSON, default=list)  # [] = every type
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str] = mapped_column(String(100), default="", server_default="")
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: Events up to this id have been given a delivery row (the fan-out's cursor).
    fanned_out_to: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WebhookDelivery(db.Model):
    """One event for one endpoint: pending (with its next attempt), delivered, or dead (retries
    exhausted; an admin can replay it)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "order_id", "status", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(300), default="", server_default="")


class WebhookAttempt(db.Model):
    """Every POST made: when, the answer (or the error) and how long it took."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id"), Index("ix_webhook_attempts_at", "at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(300), default="")


class ApplicantText(db.Model):
    """A supervisor's wording of the message an event carries to the applicant (defaults in
    console.domain.applicant_texts)."""

    __tablename__ = "applicant_texts"

    type: Mapped[str] = mapped_column(String(40), primary_key=True)
    template: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Snapshot(db.Model):
    """A computed figure set kept for readers that poll (the supervisors' 30-day statistics):
    refreshed by the jobs process's sweep, or by a reader that finds it stale."""

    __tablename__ = "snapshots"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class MaterialRuleRow(db.Model):
    """A supervisor's list of the material kinds one kind of subject must upload (overrides
    console.domain.materials.DEFAULT_REQUIRED)."""

    __tablename__ = "material_rules"

    subject_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
