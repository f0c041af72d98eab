"""Everything the order workspace shows, gathered in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from console.domain.checks import Finding, canonical_domain, domain_forms
from console.domain.order_fields import ORIGINAL_FILING_KEYS
from console.domain.reasons import SYSTEM_REASONS
from console.extensions import db
from console.models import Order, OrderEvent
from console.services import postreview
from console.services.filings import registry_facts
from console.services.findings import current_findings
from console.services.order_writes import get_order
from console.services.reasons import catalogue
from console.services.rules import Rules, load_rules


@dataclass
class Workspace:
    order: Order
    rules: Rules
    findings: list[Finding]
    events: list[OrderEvent]
    reasons: dict[str, str]
    comparison: list[dict]
    registered: dict | None  # the website's record in the registry of earlier filings
    domains: list[dict]
    reason_labels: dict[str, str]
    shipments: list

    @property
    def shipment(self):
        return self.shipments[-1] if self.shipments else None

    @property
    def shipment_received(self) -> bool:
        return bool(self.shipment and self.shipment.received_on)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def province_rule(self):
        return self.rules.provinces.get(self.order.province)

    def findings_for(self, prefix: str) -> list[Finding]:
        return [f for f in self.findings if f.field == prefix or f.field.startswith(prefix + "[")]


_COMPARED = (
    ("subject_name", "subject_name"),
    ("certificate_number", "subject_cert_number"),
    ("website_name", "website_name"),
    ("domains", None),
    ("principal_name", "principal_name"),
    ("filing_number", "website_filing_number"),
)


#: Where the registry of earlier filings keeps each compared item (principal names are not kept).
_REGISTERED_KEYS = {"subject_name": "subject_name", "certificate_number": "certificate_number",
                    "website_name": "website_name", "domains": "domains", "filing_number": "website_filing_number"}


def _shown_and_differs(submitted, recorded) -> tuple[str | None, bool]:
    """How a recorded value shows, and whether it differs from the submitted one (domains in one
    canonical form, as the consistency check compares them)."""
    if recorded is None:
        return None, False
    if isinstance(submitted, list):
        same = sorted({canonical_domain(d) for d in submitted}) == sorted({canonical_domain(d) for d in recorded})
        return "、".join(recorded), not same
    return recorded, recorded.strip() != submitted.strip()


def comparison(order: Order, registered: dict | None = None) -> list[dict]:
    """Submitted data beside the original filing record (the portal's) and, when the website's
    filing number is in the registry of earlier filings, beside the registered record."""
    original = order.original_filing or {}
    rows = []
    for key, column in _COMPARED:
        value = [d.domain for d in order.domains] if column is None else (getattr(order, column) or "")
        recorded, differs = _shown_and_differs(value, original.get(key))
        kept = registered.get(_REGISTERED_KEYS[key]) if registered and key in _REGISTERED_KEYS else None
        in_registry, registry_differs = _shown_and_differs(value, kept)
        rows.append({"label": ORIGINAL_FILING_KEYS[key], "submitted": "、".join(value) if column is None else value,
                     "recorded": recorded, "differs": differs, "registered": in_registry,
                     "registered_differs": registry_differs})
    return rows


#: History entries written without a new version (a call is logged beside the order, not on it).
UNVERSIONED_EVENTS = frozenset({"call"})


def changes_since(ws: Workspace, seen_version: int) -> list[OrderEvent]:
    """The history entries made after the page showing ``seen_version`` was loaded, newest first.

    Every versioned change records exactly one entry (the write core's ``bump`` + ``record``), so
    the newest ``current - seen`` versioned entries are those changes."""
    missed = max(0, ws.order.version - seen_version)
    return [e for e in ws.events if e.action not in UNVERSIONED_EVENTS][:missed]


def load_workspace(order_no: str) -> Workspace:
    order = get_order(order_no)
    rules = load_rules()
    events = db.session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id.desc())
    ).unique().all()
    registered = registry_facts(order.subject_cert_number, order.subject_filing_number,
                                order.website_filing_number)["registered_site"]
    domains = []
    for d in order.domains:
        forms = domain_forms(d.domain)
        domains.append({"name": d.domain, "unicode": forms[0] if forms else d.domain,
                        "ascii": forms[1] if forms else "", "valid": forms is not None})
    return Workspace(order=order, rules=rules, findings=current_findings(order, rules), events=list(events),
                     reasons=catalogue(), comparison=comparison(order, registered), registered=registered,
                     domains=domains,
                     reason_labels={**SYSTEM_REASONS, **catalogue(include_retired=True)},
                     shipments=postreview.shipments(order))
