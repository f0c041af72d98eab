"""Parse and validate the portal's order body (DESIGN.md, "Order body").

WTForms is built for flat HTML forms; the portal sends nested JSON, so this module walks the
field table of ``console.domain.order_fields`` instead. It answers structural problems only
(missing, wrong type, unknown choice, unknown province, bad date): those are 422s. Whether the
*content* is right (check digits, address rules, consistency) is the 初审 checks' business:
such an order is accepted and its findings are shown to the reviewer.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from console.domain.order_fields import (
    ORIGINAL_FILING_KEYS,
    SCALAR_FIELDS,
    Kind,
    get_path,
    set_path,
)
from console.domain.provinces import normalise_province

ORDER_NO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
MAX_DOMAINS = 20
MAX_MATERIALS = 50


class BodyInvalid(Exception):
    """The body has field errors; ``fields`` maps a dotted path to its messages."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in fields.items()))


def parse_order_body(raw, *, order_no: str | None = None) -> dict:
    """A normalised copy of the body (known fields only), or ``BodyInvalid``.

    ``order_no``: for resubmission, the order number from the URL; the body must agree.
    """
    errors: dict[str, list[str]] = {}

    def err(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    if not isinstance(raw, dict):
        raise BodyInvalid({"": ["请求体必须是 JSON 对象"]})
    out: dict = {}

    no = raw.get("order_no")
    if not isinstance(no, str) or not no.strip():
        err("order_no", "必填")
    elif not ORDER_NO_RE.match(no.strip()):
        err("order_no", "只能包含字母、数字、- 和 _，最长 40 位")
    elif order_no is not None and no.strip() != order_no:
        err("order_no", f"与地址中的订单号 {order_no} 不一致")
    else:
        out["order_no"] = no.strip()

    kind = raw.get("kind")
    if kind not in {k.value for k in Kind}:
        err("kind", "必须是 new_access 或 continue_access")
    else:
        out["kind"] = kind

    submitted = _parse_datetime(raw.get("submitted_at"))
    if isinstance(submitted, str):
        err("submitted_at", submitted)
    else:
        out["submitted_at"] = submitted.astimezone(UTC).isoformat()

    for section in ("subject", "website", "principal", "product", "prechecks"):
        if section in raw and not isinstance(raw[section], dict):
            err(section, "必须是 JSON 对象")
    for section in ("certificate_address", "mailing_address"):
        value = get_path(raw, f"subject.{section}")
        if value is not None and not isinstance(value, dict):
            err(f"subject.{section}", "必须是 JSON 对象")

    for field in SCALAR_FIELDS:
        value = get_path(raw, field.path)
        if field.kind == "bool":
            if value is None:
                value = False
            if not isinstance(value, bool):
                err(field.path, "必须是 true 或 false")
                continue
            set_path(out, field.path, value)
            continue
        if value is None:
            value = ""
        if not isinstance(value, str):
            err(field.path, "必须是字符串")
            continue
        value = value.strip()
        if field.required and not value:
            err(field.path, "必填")
            continue
        if len(value) > field.max_length:
            err(field.path, f"最长 {field.max_length} 个字符")
            continue
        if field.choices is not None and value not in field.choices:
            err(field.path, "必须是以下之一：" + ", ".join(field.choices))
            continue
        if field.path.endswith(".province") and value:
            province = normalise_province(value)
            if province is None:
                err(field.path, f"未知省份「{value}」")
                continue
            value = province
        set_path(out, field.path, value)

    domains = get_path(raw, "website.domains")
    if not isinstance(domains, list) or not domains:
        err("website.domains", "至少填写一个域名")
    elif len(domains) > MAX_DOMAINS:
        err("website.domains", f"最多 {MAX_DOMAINS} 个域名")
    elif not all(isinstance(d, str) and d.strip() for d in domains):
        err("website.domains", "每个域名必须是非空字符串")
    else:
        cleaned = [d.strip().lower().rstrip(".") for d in domains]
        if len(set(cleaned)) != len(cleaned):
            err("website.domains", "域名重复")
        elif any(len(d) > 253 for d in cleaned):
            err("website.domains", "域名过长")
        else:
            set_path(out, "website.domains", cleaned)

    out["materials"] = _parse_materials(raw.get("materials"), err)
    out["original_filing"] = _parse_original(raw.get("original_filing"), err)

    if errors:
        raise BodyInvalid(errors)
    return out


def _parse_datetime(value) -> datetime | str:
    if not isinstance(value, str) or not value.strip():
        return "必填，ISO-8601 格式，带时区，例如 2026-11-28T09:30:00+08:00"
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return "不是有效的 ISO-8601 时间"
    if moment.tzinfo is None:
        return "必须带时区（例如 +08:00）"
    return moment


def _parse_materials(value, err) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list):
        err("materials", "必须是数组")
        return []
    if len(value) > MAX_MATERIALS:
        err("materials", f"最多 {MAX_MATERIALS} 份资料")
        return []
    out = []
    for i, item in enumerate(value):
        path = f"materials[{i}]"
        if not isinstance(item, dict):
            err(path, "必须是 JSON 对象")
            continue
        kind, filename = item.get("kind"), item.get("filename")
        sha, size, url = item.get("sha256"), item.get("size"), item.get("url", "")
        ok = True
        for key, text in (("kind", kind), ("filename", filename)):
            if not isinstance(text, str) or not text.strip() or len(text) > 200:
                err(f"{path}.{key}", "必填，最长 200 个字符")
                ok = False
        if not isinstance(sha, str) or not SHA256_RE.match(sha):
            err(f"{path}.sha256", "必须是 64 位十六进制 SHA-256")
            ok = False
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            err(f"{path}.size", "必须是非负整数（字节）")
            ok = False
        if url is None:
            url = ""
        if not isinstance(url, str) or len(url) > 500 or (url and not url.startswith(("https://", "http://"))):
            err(f"{path}.url", "必须是 http(s) 地址")
            ok = False
        if ok:
            out.append({"kind": kind.strip(), "filename": filename.strip(), "sha256": sha.lower(),
                        "size": size, "url": url})
    return out


def _parse_original(value, err) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        err("original_filing", "必须是 JSON 对象")
        return {}
    out: dict = {}
    for key in ORIGINAL_FILING_KEYS:
        item = value.get(key)
        if item is None:
            continue
        if key == "domains":
            if not isinstance(item, list) or not all(isinstance(d, str) for d in item):
                err("original_filing.domains", "必须是字符串数组")
                continue
            out[key] = [d.strip().lower().rstrip(".") for d in item if d.strip()]
        elif isinstance(item, str) and len(item) <= 200:
            out[key] = item.strip()
        else:
            err(f"original_filing.{key}", "必须是字符串，最长 200 个字符")
    return out


def body_hash(body: dict) -> str:
    """A stable fingerprint of a normalised body (key order and whitespace do not matter)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
