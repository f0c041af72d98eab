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
from dataclasses import dataclass
from datetime import UTC, date, datetime

from console.domain.order_fields import (
    ORIGINAL_FILING_KEYS,
    SCALAR_FIELDS,
    Kind,
    get_path,
    set_path,
)
from console.domain.provinces import normalise_province
from console.domain.text import MAX_INT, moment_problem

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
    if not isinstance(raw, dict):
        raise BodyInvalid({"": ["请求体必须是 JSON 对象"]})
    errors: dict[str, list[str]] = {}

    def err(path: str, message: str) -> None:
        errors.setdefault(path, []).append(message)

    out: dict = {}
    for key, parse in (("order_no", lambda v: _parse_order_no(v, order_no)), ("kind", _parse_kind),
                       ("submitted_at", _parse_submitted)):
        value = parse(raw.get(key))
        if isinstance(value, _Problem):
            err(key, value.message)
        else:
            out[key] = value
    _check_sections(raw, err)
    for field in SCALAR_FIELDS:
        value = _parse_scalar(field, get_path(raw, field.path))
        if isinstance(value, _Problem):
            err(field.path, value.message)
        else:
            set_path(out, field.path, value)
    domains = _parse_domains(get_path(raw, "website.domains"))
    if isinstance(domains, _Problem):
        err("website.domains", domains.message)
    else:
        set_path(out, "website.domains", domains)
    out["materials"] = _parse_materials(raw.get("materials"), err)
    out["original_filing"] = _parse_original(raw.get("original_filing"), err)
    if errors:
        raise BodyInvalid(errors)
    return out


@dataclass(frozen=True)
class _Problem:
    message: str


def _parse_order_no(value, expected: str | None) -> str | _Problem:
    if not isinstance(value, str) or not value.strip():
        return _Problem("必填")
    value = value.strip()
    if not ORDER_NO_RE.match(value):
        return _Problem("只能包含字母、数字、- 和 _，最长 40 位")
    if expected is not None and value != expected:
        return _Problem(f"与地址中的订单号 {expected} 不一致")
    return value


def _parse_kind(value) -> str | _Problem:
    if not isinstance(value, str) or value not in {k.value for k in Kind}:
        return _Problem("必须是 new_access 或 continue_access")
    return value


def _parse_submitted(value) -> str | _Problem:
    moment = _parse_datetime(value)
    return _Problem(moment) if isinstance(moment, str) else moment.astimezone(UTC).isoformat()


def _check_sections(raw: dict, err) -> None:
    for section in ("subject", "website", "principal", "product", "prechecks"):
        if section in raw and not isinstance(raw[section], dict):
            err(section, "必须是 JSON 对象")
    for section in ("certificate_address", "mailing_address"):
        value = get_path(raw, f"subject.{section}")
        if value is not None and not isinstance(value, dict):
            err(f"subject.{section}", "必须是 JSON 对象")


def _parse_scalar(field, value):
    """One scalar field of the table: the normalised value or a ``_Problem``."""
    if field.kind == "bool":
        value = False if value is None else value
        return value if isinstance(value, bool) else _Problem("必须是 true 或 false")
    value = "" if value is None else value
    if not isinstance(value, str):
        return _Problem("必须是字符串")
    value = value.strip()
    if "\n" in value or "\r" in value:
        return _Problem("不能换行")
    if field.required and not value:
        return _Problem("必填")
    if len(value) > field.max_length:
        return _Problem(f"最长 {field.max_length} 个字符")
    if field.kind == "date" and value:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return _Problem("必须是日期 YYYY-MM-DD")
        if not 2000 <= day.year <= 2099:
            return _Problem("日期须在 2000–2099 年之间")
        value = day.isoformat()
    if field.choices is not None and value not in field.choices:
        return _Problem("必须是以下之一：" + ", ".join(field.choices))
    if field.path.endswith(".province") and value:
        province = normalise_province(value)
        return _Problem(f"未知省份「{value}」") if province is None else province
    return value


def _parse_domains(domains) -> list[str] | _Problem:
    if not isinstance(domains, list) or not domains:
        return _Problem("至少填写一个域名")
    if len(domains) > MAX_DOMAINS:
        return _Problem(f"最多 {MAX_DOMAINS} 个域名")
    if not all(isinstance(d, str) and d.strip() for d in domains):
        return _Problem("每个域名必须是非空字符串")
    cleaned = [d.strip().lower().rstrip(".") for d in domains]
    if len(set(cleaned)) != len(cleaned):
        return _Problem("域名重复")
    if any(len(d) > 253 for d in cleaned):
        return _Problem("域名过长")
    return cleaned


def parse_moment(value) -> datetime | str:
    """An aware ISO-8601 moment within the accepted range, or the message saying what is wrong."""
    return _parse_datetime(value)


def _parse_datetime(value) -> datetime | str:
    if not isinstance(value, str) or not value.strip():
        return "必填，ISO-8601 格式，带时区，例如 2026-11-28T09:30:00+08:00"
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return "不是有效的 ISO-8601 时间"
    if moment.tzinfo is None:
        return "必须带时区（例如 +08:00）"
    return moment_problem(moment) or moment


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
        parsed = _parse_material(item, f"materials[{i}]", err)
        if parsed is not None:
            out.append(parsed)
    return out


def _parse_material(item, path: str, err) -> dict | None:
    if not isinstance(item, dict):
        err(path, "必须是 JSON 对象")
        return None
    kind, filename = item.get("kind"), item.get("filename")
    sha, size, url = item.get("sha256"), item.get("size"), item.get("url")
    url = "" if url is None else url
    problems = {}
    for key, text in (("kind", kind), ("filename", filename)):
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            problems[key] = "必填，最长 200 个字符"
    if not isinstance(sha, str) or not SHA256_RE.match(sha):
        problems["sha256"] = "必须是 64 位十六进制 SHA-256"
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_INT:
        problems["size"] = f"必须是 0 到 {MAX_INT} 之间的整数（字节）"
    if not isinstance(url, str) or len(url) > 500 or (url and not url.startswith(("https://", "http://"))):
        problems["url"] = "必须是 http(s) 地址"
    for key, message in problems.items():
        err(f"{path}.{key}", message)
    if problems:
        return None
    return {"kind": kind.strip(), "filename": filename.strip(), "sha256": sha.lower(), "size": size, "url": url}


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


#: Optional fields added after orders were already being fingerprinted: left out of the
#: fingerprint while empty, so a body sent before they existed still matches its order.
LATER_OPTIONAL = (("product", "owner_account"), ("product", "service_end"), ("applicant", "account"),
                  ("subject", "legal_representative"))


def body_hash(body: dict) -> str:
    """A stable fingerprint of a normalised body (key order and whitespace do not matter)."""
    body = {key: dict(value) if isinstance(value, dict) else value for key, value in body.items()}
    for parent, key in LATER_OPTIONAL:
        if isinstance(body.get(parent), dict) and not body[parent].get(key):
            body[parent].pop(key, None)
            if not body[parent]:
                body.pop(parent)
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
