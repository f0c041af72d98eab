"""Run the 初审 checks for an order: gather the facts they need with indexed queries."""

from __future__ import annotations

from sqlalchemy import select

from console.domain.calendar import to_local, utcnow
from console.domain.checks import CheckContext, Finding, run_checks, sms_required
from console.domain.workflow import TERMINAL_STATES, State
from console.extensions import db
from console.models import Order
from console.services.filings import registry_facts
from console.services.mapping import order_to_body
from console.services.rules import Rules
from console.services.settings import get_setting

BUREAU_STAGE = (State.SMS_VERIFICATION.value, State.BUREAU_REVIEW.value)


def check_context(order: Order, rules: Rules) -> CheckContext:
    """What the checks need to know about other orders of the same subject and phone, and what the
    registry of earlier filings records about the subject and the website."""
    rule = rules.provinces.get(order.province)
    siblings = db.session.execute(
        select(Order.order_no, Order.state).where(
            Order.subject_cert_number == order.subject_cert_number, Order.id != order.id
        )
    ).all()
    owners = db.session.scalars(
        select(Order.subject_name)
        .where(Order.principal_mobile == order.principal_mobile,
               Order.subject_cert_number != order.subject_cert_number)
        .distinct()
        .limit(5)
    ).all()
    instance_orders = db.session.scalars(
        select(Order.order_no).where(Order.product_instance_id == order.product_instance_id, Order.id != order.id,
                                     Order.state.not_in([s.value for s in TERMINAL_STATES if s != State.APPROVED]))
        .order_by(Order.id).limit(100)).all() if order.product_instance_id else []
    return CheckContext(
        province=rule,
        instance_orders=tuple(instance_orders),
        today=to_local(utcnow()).date(),
        min_service_days=get_setting("min_service_days"),
        max_orders_per_instance=get_setting("max_orders_per_instance"),
        required_materials=rules.materials.get(order.subject_type, ()),
        sms_required=sms_required(rule, to_local(order.first_submitted_at).date()),
        subject_has_approved=any(s == State.APPROVED for _, s in siblings),
        subject_open_orders=tuple(sorted(n for n, s in siblings if s not in TERMINAL_STATES)),
        subject_bureau_orders=tuple(sorted(n for n, s in siblings if s in BUREAU_STAGE)),
        phone_owners={order.principal_mobile: tuple(owners)} if owners else {},
        **registry_facts(order.subject_cert_number, order.subject_filing_number, order.website_filing_number),
    )


def current_findings(order: Order, rules: Rules) -> list[Finding]:
    return run_checks(order_to_body(order), check_context(order, rules))


def refresh_findings(order: Order, rules: Rules) -> list[Finding]:
    """Re-run the checks and store the findings and their counts on the order."""
    findings = current_findings(order, rules)
    order.findings = [f.as_dict() for f in findings]
    order.error_count = sum(f.severity == "error" for f in findings)
    order.warning_count = len(findings) - order.error_count
    return findings
