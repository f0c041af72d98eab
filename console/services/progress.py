"""What the applicant portal reads about an order: state, deadlines, history, result, findings."""

from __future__ import annotations

from sqlalchemy import select

from console.domain.workflow import State
from console.extensions import db
from console.models import Order, OrderEvent
from console.services.findings import current_findings
from console.services.rules import load_rules


def order_progress(order: Order) -> dict:
    """The body of ``GET /api/v1/orders/<no>`` (DESIGN.md, the portal API)."""
    events = db.session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id, OrderEvent.to_state.is_not(None))
        .order_by(OrderEvent.id)).all()
    history = [{"at": e.at.isoformat(), "action": e.action, "from": e.from_state, "to": e.to_state,
                "reasons": e.reasons, "note": e.note} for e in events]
    return {
        "order_no": order.order_no,
        "kind": order.kind,
        "province": order.province,
        "state": order.state,
        "state_label": State(order.state).label,
        "version": order.version,
        "submitted_at": order.submitted_at.isoformat(),
        "stage_entered_at": order.stage_entered_at.isoformat(),
        "due_at": order.due_at.isoformat() if order.due_at else None,
        "due_estimated": order.due_estimated,
        "history": history,
        "result": _result(order, history),
        "findings": [f.as_dict() for f in current_findings(order, load_rules())],
    }


def _result(order: Order, history: list[dict]) -> dict | None:
    if order.state == State.APPROVED:
        return {"outcome": "approved", "filing_number": order.result_filing_number}
    if order.state in (State.RETURNED, State.BUREAU_REJECTED) and history:
        last = history[-1]
        return {"outcome": order.state, "reasons": last["reasons"], "note": last["note"]}
    if order.state in (State.ABANDONED, State.REVOKED):
        return {"outcome": order.state}
    return None
