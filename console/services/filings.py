"""The registry of filings this provider already holds (made before the console): import and look-up.

Admins upload the provider's existing filings (CSV or XLSX, one row per website: subject,
certificate number, subject filing number, website filing number, website name, domains,
status). Like the bureau import, every row is judged first and shown in a preview (new, changed,
unchanged, or failed with its reason); applying writes the good rows in one set-based upsert per
chunk keyed by the website filing number, so re-importing a file changes nothing twice. The open
orders of the subjects the file touched are checked again, so their findings reflect the registry
at once.

The checks (``console.domain.checks``) read the registry through ``registry_facts``: whether the
subject holds a filing here (新增接入 / 继续接入), who a subject filing number belongs to (主体冲突),
and the registered record of the website (the original-filing comparison).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from console.database import is_postgres, write_transaction
from console.domain.calendar import utcnow
from console.domain.checks import canonical_domain, domain_forms, filing_number_problem
from console.domain.text import has_control
from console.domain.workflow import State
from console.extensions import db
from console.models import Filing, FilingImport, Order
from console.services.actors import Actor
from console.services.csvout import csv_bytes
from console.services.errors import Invalid, NotFound
from console.services.imports import read_rows

COLUMNS = {
    "subject_name": ("主办单位名称", "主体名称", "subject_name"),
    "certificate_number": ("证件号码", "主办单位证件号码", "certificate_number"),
    "subject_filing_number": ("主体备案号", "subject_filing_number"),
    "website_filing_number": ("网站备案号", "website_filing_number"),
    "website_name": ("网站名称", "website_name"),
    "domains": ("域名", "domains"),
    "filing_status": ("状态", "status"),  # not "status": that key is the row's outcome
}
HEADER_HINT = "表头须为 主办单位名称、证件号码、主体备案号、网站备案号、网站名称、域名、状态"
ACTIVE = {"", "active", "正常", "有效", "已备案"}
CANCELLED = {"cancelled", "canceled", "已注销", "注销", "已取消接入", "取消接入"}
STATUS_LABELS = {"active": "正常", "cancelled": "已注销"}
TEMPLATE_ROWS = [list(names[0] for names in COLUMNS.values()),
                 ["杭州云栈科技有限公司", "91330106MA2B3C4D5D", "浙ICP备20001234号", "浙ICP备20001234号-1",
                  "云栈科技官网", "yunzhan.cn;www.yunzhan.cn", "正常"],
                 ["杭州云栈科技有限公司", "91330106MA2B3C4D5D", "浙ICP备20001234号", "浙ICP备20001234号-2",
                  "云栈文档", "docs.yunzhan.cn", "已注销"]]
CERTIFICATE_RE = re.compile(r"^[0-9A-Za-z]{8,30}$")
DOMAIN_SPLIT_RE = re.compile(r"[\s,;，；、]+")
#: Rows per set-based statement (well under SQLite's and PostgreSQL's bound-parameter limits).
CHUNK = 500
#: Open orders in these states are checked again when the registry changes (the 初审 is where
#: findings drive a decision; later stages keep what the reviewer saw).
RECHECK_STATES = (State.INITIAL_REVIEW.value, State.RETURNED.value)


def template_csv() -> bytes:
    return csv_bytes(TEMPLATE_ROWS[0], TEMPLATE_ROWS[1:])


# --- judging rows ------------------------------------------------------------------------------

def _domains(text: str) -> tuple[list[str], str | None]:
    """The row's domains in canonical form, or why one of them is not a domain."""
    names = [d for d in DOMAIN_SPLIT_RE.split(text.strip().lower()) if d]
    for name in names:
        if domain_forms(name.rstrip(".")) is None:
            return [], f"域名「{name}」不是有效的域名"
    return sorted(dict.fromkeys(canonical_domain(n) for n in names)), None


def _record(row: dict) -> tuple[dict | None, str | None]:
    """The registry record a row describes, or why it cannot be one."""
    if any(has_control(row[key]) for key in COLUMNS):
        return None, "含有控制字符"
    for key in ("subject_name", "certificate_number", "subject_filing_number", "website_filing_number"):
        if not row[key]:
            return None, f"缺少{COLUMNS[key][0]}"
    if len(row["subject_name"]) > 200 or len(row["website_name"]) > 200:
        return None, "名称过长（最多 200 个字符）"
    if not CERTIFICATE_RE.match(row["certificate_number"]):
        return None, f"证件号码「{row['certificate_number']}」应为 8 到 30 位字母或数字"
    problem = (filing_number_problem(row["subject_filing_number"], website=False, province=None)
               or filing_number_problem(row["website_filing_number"], website=True, province=None))
    if problem:
        return None, problem
    if not row["website_filing_number"].startswith(row["subject_filing_number"] + "-"):
        return None, f"网站备案号「{row['website_filing_number']}」不属于主体备案号「{row['subject_filing_number']}」"
    domains, problem = _domains(row["domains"])
    if problem:
        return None, problem
    status = row["filing_status"].lower()
    if status not in ACTIVE | CANCELLED:
        return None, f"状态「{row['filing_status']}」无法识别（应为 正常 或 已注销）"
    return {"website_filing_number": row["website_filing_number"], "subject_filing_number": row["subject_filing_number"],
            "subject_name": row["subject_name"], "certificate_number": row["certificate_number"].upper(),
            "website_name": row["website_name"], "domains": domains,
            "status": "cancelled" if status in CANCELLED else "active"}, None


_COMPARED = {"subject_name": "主办单位名称", "certificate_number": "证件号码", "subject_filing_number": "主体备案号",
             "website_name": "网站名称", "domains": "域名", "status": "状态"}


def _judge(row: dict, existing: dict[str, Filing], seen: set[str]) -> dict:
    record, problem = _record(row)
    if record is not None and record["website_filing_number"] in seen:
        record, problem = None, "与前面的行重复（同一网站备案号）"
    if record is None:
        return {**row, "status": "error", "message": problem}
    seen.add(record["website_filing_number"])
    now = existing.get(record["website_filing_number"])
    if now is None:
        return {**row, "record": record, "status": "ok", "message": "将新增"}
    changed = [label for key, label in _COMPARED.items() if getattr(now, key) != record[key]]
    if not changed:
        return {**row, "record": record, "status": "skip", "message": "与登记相同"}
    return {**row, "record": record, "status": "ok", "message": "将更新：" + "、".join(changed)}


def preview(filename: str, data: bytes, actor: Actor) -> FilingImport:
    """Parse and judge every row against the registry; nothing is written to it yet."""
    rows = read_rows(filename, data, COLUMNS, required=("subject_name", "certificate_number",
                                                         "subject_filing_number", "website_filing_number"),
                     header_hint=HEADER_HINT)
    numbers = list({r["website_filing_number"] for r in rows if r["website_filing_number"]})
    existing: dict[str, Filing] = {}
    for start in range(0, len(numbers), CHUNK):
        chunk = numbers[start:start + CHUNK]
        existing.update({f.website_filing_number: f for f in
                         db.session.scalars(select(Filing).where(Filing.website_filing_number.in_(chunk)))})
    seen: set[str] = set()
    judged = [_judge(row, existing, seen) for row in rows]
    with write_transaction():
        batch = FilingImport(created_at=utcnow(), created_by=actor.user_id, filename=(filename or "")[:200],
                             status="previewed", total=len(judged), rows=judged,
                             failed=sum(r["status"] == "error" for r in judged))
        db.session.add(batch)
    return batch


# --- applying ----------------------------------------------------------------------------------

def get_import(import_id: int) -> FilingImport:
    batch = db.session.get(FilingImport, import_id)
    if batch is None:
        raise NotFound("导入记录不存在")
    return batch


def recent(limit: int = 10) -> list[FilingImport]:
    return list(db.session.scalars(select(FilingImport).order_by(FilingImport.id.desc()).limit(limit)))


def row_counts(batch: FilingImport) -> dict[str, int]:
    counts = {"ok": 0, "skip": 0, "error": 0, "applied": 0}
    for row in batch.rows:
        counts[row["status"]] += 1
    return counts


def _upsert(records: list[dict], import_id: int, now: datetime) -> None:
    values = [{**r, "import_id": import_id, "updated_at": now} for r in records]
    insert = pg_insert if is_postgres() else sqlite_insert
    stmt = insert(Filing).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Filing.website_filing_number],
        set_={key: stmt.excluded[key] for key in (*_COMPARED, "import_id", "updated_at")})
    db.session.execute(stmt)


def apply(import_id: int, actor: Actor) -> FilingImport:
    """Write the previewed good rows to the registry (an upsert per chunk of ``CHUNK`` rows, all in
    one transaction: the registry never holds half a file), then check again the open orders of the
    subjects the file names. A batch is applied once: a second press finds it done."""
    with write_transaction():
        claimed = db.session.execute(
            update(FilingImport).where(FilingImport.id == import_id, FilingImport.status == "previewed")
            .values(status="applying", applied_by=actor.user_id)).rowcount
        batch = get_import(import_id)
        if not claimed:
            raise Invalid("此文件已导入", fields={"file": ["此文件已导入或正在导入，不能重复执行"]})
        now = utcnow()
        rows = [dict(r) for r in batch.rows]
        good = [r["record"] for r in rows if r["status"] == "ok"]
        for start in range(0, len(good), CHUNK):
            _upsert(good[start:start + CHUNK], import_id, now)
        for r in rows:
            if r["status"] == "ok":
                r["status"], r["message"] = "applied", ("已新增" if r["message"] == "将新增" else
                                                        r["message"].replace("将更新", "已更新"))
        batch.rows, batch.applied = rows, len(good)
        batch.status, batch.finished_at = "done", utcnow()
    certificates = sorted({r["record"]["certificate_number"] for r in rows if r["status"] == "applied"})
    rechecked = recheck_open_orders(certificates)
    with write_transaction():
        get_import(import_id).rechecked = rechecked
    return get_import(import_id)


def recheck_open_orders(certificates: list[str]) -> int:
    """Run the checks again for the open 初审 orders of these subjects; how many were checked."""
    from console.services.findings import refresh_findings
    from console.services.rules import load_rules

    rules, total = load_rules(), 0
    for start in range(0, len(certificates), CHUNK):
        chunk = certificates[start:start + CHUNK]
        with write_transaction():
            orders = db.session.scalars(select(Order).where(Order.subject_cert_number.in_(chunk),
                                                            Order.state.in_(RECHECK_STATES))).all()
            for order in orders:
                refresh_findings(order, rules)
            total += len(orders)
    return total


def failures_csv(batch: FilingImport) -> bytes:
    """The rows that failed, with why (cells from the uploaded file cannot act as formulas)."""
    return csv_bytes(["行号", *(names[0] for names in COLUMNS.values()), "失败原因"],
                     ([row["line"], *(row[key] for key in COLUMNS), row["message"]]
                      for row in batch.rows if row["status"] == "error"))


# --- look-up -----------------------------------------------------------------------------------

def as_fact(filing: Filing) -> dict:
    """A registry record as the checks read it (plain data, no session)."""
    return {"website_filing_number": filing.website_filing_number, "subject_filing_number": filing.subject_filing_number,
            "subject_name": filing.subject_name, "certificate_number": filing.certificate_number,
            "website_name": filing.website_name, "domains": list(filing.domains or []), "status": filing.status}


def registry_facts(certificate_number: str, subject_filing_number: str, website_filing_number: str) -> dict:
    """What the registry knows about an order's subject and website, in three indexed look-ups:
    the subject's active filings here, other subjects registered under the same subject filing
    number, and the record of the website's filing number."""
    certificate_number = (certificate_number or "").upper()
    subject_sites = db.session.scalars(
        select(Filing).where(Filing.certificate_number == certificate_number, Filing.status == "active")
        .order_by(Filing.website_filing_number).limit(20)).all() if certificate_number else []
    holders = db.session.scalars(
        select(Filing).where(Filing.subject_filing_number == subject_filing_number,
                             Filing.certificate_number != certificate_number)
        .order_by(Filing.id).limit(3)).all() if subject_filing_number else []
    site = db.session.scalar(select(Filing).where(Filing.website_filing_number == website_filing_number)) \
        if website_filing_number else None
    return {"registered_subject_sites": tuple(as_fact(f) for f in subject_sites),
            "registered_number_holders": tuple(as_fact(f) for f in holders),
            "registered_site": as_fact(site) if site else None}


def search(query: str, limit: int = 50) -> list[Filing]:
    """Registry records by an exact certificate number, subject or website filing number."""
    q = (query or "").strip()
    if not q or len(q) > 100 or has_control(q):
        return []
    return list(db.session.scalars(
        select(Filing).where(or_(Filing.certificate_number == q.upper(), Filing.subject_filing_number == q,
                                 Filing.website_filing_number == q))
        .order_by(Filing.website_filing_number).limit(limit)))


def summary() -> dict:
    """How many records the registry holds, by status (an admin page; one grouped count)."""
    counts = dict(db.session.execute(select(Filing.status, func.count()).group_by(Filing.status)).all())
    return {"active": counts.get("active", 0), "cancelled": counts.get("cancelled", 0)}
