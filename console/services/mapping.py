"""Between the portal's order body and the ``Order`` row: one place, driven by the field table."""

from __future__ import annotations

from datetime import datetime

from console.domain.order_fields import SCALAR_FIELDS, get_path, set_path
from console.models import Order, OrderDomain, OrderMaterial


def order_to_body(order: Order) -> dict:
    """The order as a body-shaped dict (what the checks read and the API shows)."""
    body: dict = {"order_no": order.order_no, "kind": order.kind,
                  "submitted_at": order.submitted_at.isoformat()}
    for field in SCALAR_FIELDS:
        set_path(body, field.path, getattr(order, field.column))
    set_path(body, "website.domains", [d.domain for d in order.domains])
    body["materials"] = [
        {"kind": m.kind, "filename": m.filename, "sha256": m.sha256, "size": m.size, "url": m.url,
         **({"wrong_kind": True} if m.wrong_kind else {})}
        for m in order.materials
    ]
    body["original_filing"] = dict(order.original_filing or {})
    return body


def apply_body(order: Order, body: dict) -> dict[str, list]:
    """Copy a parsed body onto ``order``; returns the field diffs ``{path: [old, new]}``."""
    changes: dict[str, list] = {}
    for field in SCALAR_FIELDS:
        new = get_path(body, field.path)
        old = getattr(order, field.column, None)
        if old != new:
            if old is not None:
                changes[field.path] = [old, new]
            setattr(order, field.column, new)
    order.kind, order.province = body["kind"], body["subject"]["certificate_address"]["province"]
    order.submitted_at = datetime.fromisoformat(body["submitted_at"])

    domains = get_path(body, "website.domains")
    old_domains = [d.domain for d in order.domains]
    if old_domains != domains:
        if old_domains:
            changes["website.domains"] = [old_domains, domains]
        order.domains = [OrderDomain(position=i, domain=d) for i, d in enumerate(domains)]
    order.main_domain = domains[0]

    materials = body["materials"]
    old_materials = [m.sha256 for m in order.materials]
    if old_materials != [m["sha256"] for m in materials]:
        if old_materials:
            changes["materials"] = [[m.filename for m in order.materials], [m["filename"] for m in materials]]
        order.materials = [OrderMaterial(position=i, **m) for i, m in enumerate(materials)]
    if (order.original_filing or {}) != body["original_filing"]:
        if order.original_filing:
            changes["original_filing"] = [order.original_filing, body["original_filing"]]
        order.original_filing = body["original_filing"]
    return changes
