"""Global search: any order in any state, by what an applicant reads out on the phone.

The query is classified first (order number, certificate or ID number, phone, e-mail, domain,
filing number, name) and only the lookups that can match run, each on its own index, so an exact
identifier costs a handful of index probes however large the table. A fragment of the subject or
website name is a substring search: pg_trgm GIN indexes on PostgreSQL (three characters or more,
since a trigram index cannot narrow a shorter fragment); SQLite scans, which is fine at the sizes
SQLite is meant for (bench/README.md has the figures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from console.domain.checks import domain_forms, normalise_phone
from console.domain.order_body import ORDER_NO_RE
from console.extensions import db
from console.models import Order, OrderDomain, User

LIMIT = 20
MAX_QUERY = 100
#: The shortest name fragment searched as a substring (a trigram index needs three characters).
MIN_FRAGMENT = 3

_CERT_RE = re.compile(r"^[0-9A-Z]{15,20}$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()（）-]{5,20}$")
_FILING_RE = re.compile(r"ICP", re.IGNORECASE)

#: What a hit matched, in the reviewer's words.
MATCH_LABELS = {
    "order_no": "订单号", "cert": "证件号码", "id_number": "负责人证件号码", "phone": "联系电话",
    "email": "电子邮箱", "domain": "域名", "filing": "备案号", "person": "负责人姓名",
    "subject": "主办单位名称", "website": "网站名称",
}

RESULT_COLUMNS = (
    Order.id, Order.order_no, Order.state, Order.kind, Order.province, Order.subject_name, Order.website_name,
    Order.main_domain, Order.due_at, Order.due_estimated, Order.stage_entered_at, Order.submitted_at,
    Order.result_filing_number, Order.assignee_id,
)


@dataclass
class SearchResult:
    query: str
    rows: list  # RESULT_COLUMNS + assignee_name, with .matched (label) alongside in ``matched``
    matched: dict[int, str]
    more: bool
    hint: str = ""


def _lookups(q: str) -> list[tuple[str, object]]:
    """(match kind, WHERE clause) for every kind of identifier ``q`` could be."""
    upper = q.upper()
    lookups: list[tuple[str, object]] = []
    if ORDER_NO_RE.match(q):
        lookups.append(("order_no", Order.order_no == q))
        if upper != q:
            lookups.append(("order_no", Order.order_no == upper))
    if _CERT_RE.match(upper):
        lookups.append(("cert", Order.subject_cert_number == upper))
        lookups.append(("id_number", Order.principal_id_number == upper))
    if _PHONE_RE.match(q):
        forms = sorted({q, normalise_phone(q), q.replace(" ", "")})
        lookups.append(("phone", or_(Order.principal_mobile.in_(forms), Order.principal_mobile2.in_(forms),
                                     Order.principal_emergency_phone.in_(forms))))
    if "@" in q:
        lookups.append(("email", func.lower(Order.principal_email) == q.lower()))  # on its lower() index
    if _FILING_RE.search(q):
        lookups.append(("filing", or_(Order.subject_filing_number == q, Order.website_filing_number == q,
                                      Order.result_filing_number == q)))
    if "." in q and "@" not in q:
        forms = domain_forms(q.lower())
        if forms:
            names = sorted(set(forms))
            lookups.append(("domain", Order.id.in_(select(OrderDomain.order_id)
                                                   .where(OrderDomain.domain.in_(names)))))
    if lookups and any(kind in ("filing", "email", "domain") for kind, _ in lookups):
        return lookups  # an identifier, not a name: no name look-ups (a filing number is not ASCII)
    if not q.isascii() or (q.replace(" ", "").isalpha() and "." not in q):
        lookups.append(("person", Order.principal_name == q))
        if len(q) >= MIN_FRAGMENT:
            lookups.append(("subject", Order.subject_name.contains(q, autoescape=True)))
            lookups.append(("website", Order.website_name.contains(q, autoescape=True)))
    return lookups


def search(query: str, *, limit: int = LIMIT) -> SearchResult:
    """Orders matching ``query`` in any state: exact identifiers first, then name fragments,
    newest submission first within each."""
    q = " ".join((query or "").split())[:MAX_QUERY]
    if not q:
        return SearchResult(query="", rows=[], matched={}, more=False)
    matched: dict[int, str] = {}
    rows: list = []
    more = False
    for kind, clause in _lookups(q):
        if len(rows) > limit:
            more = True
            break
        found = db.session.execute(
            select(*RESULT_COLUMNS, User.display_name.label("assignee_name"))
            .outerjoin(User, User.id == Order.assignee_id)
            .where(clause).order_by(Order.submitted_at.desc(), Order.id.desc()).limit(limit + 1)
        ).all()
        for row in found:
            if row.id not in matched:
                matched[row.id] = MATCH_LABELS[kind]
                rows.append(row)
    if len(rows) > limit:
        more, rows = True, rows[:limit]
    hint = ""
    if not q.isascii() and len(q) < MIN_FRAGMENT:
        hint = f"名称片段至少输入 {MIN_FRAGMENT} 个字；更短的输入只按负责人姓名精确查找。"
    return SearchResult(query=q, rows=rows, matched=matched, more=more, hint=hint)
