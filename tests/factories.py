"""Test data: valid order bodies (the DESIGN.md example) and variations of them."""

from __future__ import annotations

import copy
from datetime import datetime

from console.domain.calendar import SHANGHAI

EXAMPLE_BODY = {
    "order_no": "JR2026112800001",
    "kind": "new_access",
    "submitted_at": "2026-11-28T09:30:00+08:00",
    "subject": {
        "type": "enterprise",
        "name": "杭州云栈科技有限公司",
        "certificate_type": "uscc",
        "certificate_number": "91330106MA2B3C4D5D",
        "certificate_address": {"province": "浙江", "city": "杭州市", "district": "西湖区", "detail": "文三路90号"},
        "mailing_address": {"province": "浙江", "city": "杭州市", "district": "西湖区", "detail": "文三路90号"},
        "address_remark": "",
        "filing_number": "浙ICP备12345678号",
    },
    "website": {
        "name": "云栈科技官网",
        "domains": ["yunzhan.cn"],
        "filing_number": "浙ICP备12345678号-1",
        "previous_provider": "another cloud",
    },
    "principal": {
        "name": "张伟",
        "id_type": "resident_id",
        "id_number": "330106199003071236",
        "mobile": "13800138000",
        "mobile2": "",
        "email": "zhangwei@yunzhan.cn",
        "emergency_phone": "",
    },
    "product": {"instance_id": "i-bp1example", "region": "cn-hangzhou", "public_ip": "47.96.1.2", "verified": True},
    "prechecks": {"filing_password_verified": True, "identity_verified": True},
    # DESIGN.md's example uploads the licence only; an enterprise also needs the principal's ID
    # (console.domain.materials), so the tests' default body carries both and passes every check.
    "materials": [{"kind": "uscc_certificate", "filename": "license.jpg", "sha256": "a" * 64, "size": 123456},
                  {"kind": "principal_id", "filename": "id.jpg", "sha256": "b" * 64, "size": 65432}],
    "original_filing": {"subject_name": "杭州云栈科技有限公司", "certificate_number": "91330106MA2B3C4D5D",
                        "website_name": "云栈科技官网", "domains": ["yunzhan.cn"], "principal_name": "张伟"},
}

_counter = {"n": 0}


def order_body(order_no: str | None = None, *, submitted_at: datetime | str | None = None,
               province: str | None = None, **changes) -> dict:
    """A copy of the example body; ``changes`` are dotted paths ('subject.name': '…')."""
    body = copy.deepcopy(EXAMPLE_BODY)
    if order_no is None:
        _counter["n"] += 1
        order_no = f"JR-T{_counter['n']:06d}"
    body["order_no"] = order_no
    if submitted_at is not None:
        body["submitted_at"] = submitted_at if isinstance(submitted_at, str) else \
            submitted_at.astimezone(SHANGHAI).isoformat()
    if province is not None:
        from console.domain.provinces import PROVINCES

        prefix = PROVINCES[province].icp_prefix
        for key in ("certificate_address", "mailing_address"):
            body["subject"][key]["province"] = province
        body["subject"]["filing_number"] = f"{prefix}ICP备12345678号"
        body["website"]["filing_number"] = f"{prefix}ICP备12345678号-1"
    for path, value in changes.items():
        node = body
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if value is _DELETE:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return body


class _Delete:
    pass


_DELETE = _Delete()
DELETE = _DELETE
