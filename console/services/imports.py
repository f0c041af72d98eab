"""Batch import of bureau results: parse, preview row by row, apply set-based in chunks.

A file never half-applies silently: every row ends as applied, skipped (already applied) or
failed with its reason, and the failures can be downloaded. Re-importing the same file applies
nothing twice, because an order whose result is recorded is no longer in the bureau stage.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import defer

from console.database import write_transaction
from console.domain.calendar import utcnow
from console.domain.workflow import State
from console.extensions import db
from console.models import BureauImport, Order, User
from console.services import postreview, workcounts
from console.services.actors import Actor
from console.services.csvout import csv_bytes
from console.services.errors import Invalid, NotFound
from console.services.order_writes import lock_orders
from console.services.spreadsheets import SpreadsheetError, xlsx_rows

log = logging.getLogger(__name__)

MAX_ROWS = 20_000
MAX_BYTES = 8 * 1024 * 1024
COLUMNS = {
    "order_no": ("订单号", "order_no"),
    "result": ("结果", "result"),
    "filing_number": ("备案号", "filing_number"),
    "reason": ("原因", "reason"),
}
APPROVED = {"approved", "通过", "审核通过", "接入成功"}
REJECTED = {"rejected", "驳回", "不通过", "审核不通过", "管局驳回"}
TEMPLATE_ROWS = [["订单号", "结果", "备案号", "原因"],
                 ["JR2026112800001", "通过", "浙ICP备12345678号-1", ""],
                 ["JR2026112800002", "驳回", "", "主办单位证件住所与证件不一致"]]


def template_csv() -> bytes:
    return csv_bytes(TEMPLATE_ROWS[0], TEMPLATE_ROWS[1:])


def _refused(message: str, detail: str | None = None) -> Invalid:
    return Invalid(message, fields={"file": [detail or message]})


def parse_upload(filename: str, data: bytes) -> list[dict]:
    """Rows of a bureau results file, keyed by column; Invalid with a clear reason."""
    return read_rows(filename, data, COLUMNS, required=("order_no", "result"),
                     header_hint="表头须为 订单号、结果、备案号、原因")


def read_rows(filename: str, data: bytes, columns: dict[str, tuple[str, ...]], *, required: tuple[str, ...],
              header_hint: str) -> list[dict]:
    """Rows of a CSV (UTF-8 or GBK) or XLSX file, each a dict of ``columns`` (by the header's
    Chinese or English names, any order) plus its line number; Invalid with a clear reason. Every
    import of the console (bureau results, the filings registry) reads its file through here."""
    table = _read_table((filename or "").lower(), data)
    if not table:
        raise _refused("文件是空的", "文件中没有任何内容")
    index = _column_index(table[0], columns, required, header_hint)
    body = table[1:]
    if not body:
        raise _refused("文件中只有表头", "文件中只有表头，没有数据行")
    if len(body) > MAX_ROWS:
        raise _refused("行数过多", f"一次最多导入 {MAX_ROWS} 行")

    def cell(cells: list[str], key: str) -> str:
        i = index.get(key)
        return ((cells[i] if i is not None and i < len(cells) else "") or "").strip()

    return [{"line": line, **{key: cell(cells, key) for key in columns}} for line, cells in enumerate(body, start=2)]


def _read_table(name: str, data: bytes) -> list[list[str]]:
    """The file's non-empty rows as lists of strings."""
    if not data:
        raise _refused("文件是空的")
    if len(data) > MAX_BYTES:
        raise _refused("文件过大", f"文件不能超过 {MAX_BYTES // 1024 // 1024} MB")
    if name.endswith(".csv"):
        table = _csv_rows(data)
    elif name.endswith(".xlsx"):
        table = _xlsx_rows(data)
    else:
        raise _refused("文件类型不支持", "请上传 .csv 或 .xlsx 文件")
    return [row for row in table if any((cell or "").strip() for cell in row)]


def _column_index(header_row: list[str], columns: dict[str, tuple[str, ...]], required: tuple[str, ...],
                  header_hint: str) -> dict[str, int]:
    """Where each known column is; Invalid when a required one is missing."""
    header = [(cell or "").strip().lower() for cell in header_row]
    index = {key: i for key, names in columns.items() for i, cell in enumerate(header) if cell in names}
    missing = [columns[k][0] for k in required if k not in index]
    if missing:
        raise _refused("缺少必需的列", "缺少列：" + "、".join(missing) + f"（{header_hint}）")
    return index


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese Windows saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise Invalid("无法识别文件编码", fields={"file": ["请使用 UTF-8 或 GBK 编码的 CSV"]})
    if "\x00" in text:
        raise Invalid("文件不是文本 CSV", fields={"file": ["文件内容不是 CSV 文本"]})
    try:
        return [list(r) for r in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise Invalid("CSV 格式错误", fields={"file": [f"CSV 格式错误：{exc}"]}) from None


def _xlsx_rows(data: bytes) -> list[list[str]]:
    try:
        return xlsx_rows(data, max_rows=MAX_ROWS + 1)  # the header and MAX_ROWS rows
    except SpreadsheetError as exc:
        raise _refused("无法读取 XLSX 文件", str(exc)) from None


def _judge(row: dict, order: Order | None, seen: set[str]) -> tuple[str, str, str]:
    """(status, outcome, message): status is ok | skip | error."""
    no = row["order_no"]
    outcome = "approved" if row["result"].lower() in APPROVED else "rejected" if row["result"].lower() in REJECTED else ""
    if not no:
        return "error", outcome, "缺少订单号"
    if no in seen:
        return "error", outcome, "与前面的行重复"
    seen.add(no)
    if not outcome:
        return "error", outcome, f"结果「{row['result']}」无法识别（应为 通过 或 驳回）"
    if order is None:
        return "error", outcome, "订单不存在"
    if outcome == "approved" and order.state == State.APPROVED and order.result_filing_number == row["filing_number"]:
        return "skip", outcome, "已导入过（订单已接入成功）"
    if outcome == "rejected" and order.state == State.BUREAU_REJECTED:
        return "skip", outcome, "已导入过（订单已是管局驳回）"
    if order.state != State.BUREAU_REVIEW:
        return "error", outcome, f"订单处于「{State(order.state).label}」，不在管局审核中"
    if outcome == "approved":
        problem = postreview.bureau_number_problem(order, row["filing_number"], row["reason"])
        if problem:
            return "error", outcome, problem[1]
    elif not row["reason"]:
        return "error", outcome, "驳回须填写原因"
    return "ok", outcome, "将导入"


#: What judging a row reads of its order (a preview of 10,000 rows loads no more than this).
JUDGED_COLUMNS = (Order.order_no, Order.state, Order.province, Order.result_filing_number,
                  Order.website_filing_number, Order.original_filing)


def preview(filename: str, data: bytes, actor: Actor) -> BureauImport:
    """Parse and judge every row; nothing is applied yet."""
    rows = parse_upload(filename, data)
    numbers = list({r["order_no"] for r in rows if r["order_no"]})
    orders: dict[str, Order] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        orders.update({o.order_no: o for o in db.session.execute(  # plain rows: no ORM objects to track
            select(*JUDGED_COLUMNS).where(Order.order_no.in_(chunk)))})
    seen: set[str] = set()
    for row in rows:
        row["status"], row["outcome"], row["message"] = _judge(row, orders.get(row["order_no"]), seen)
    with write_transaction():
        batch = BureauImport(created_at=utcnow(), created_by=actor.user_id, filename=(filename or "")[:200],
                             status="previewed", total=len(rows), rows=rows)
        db.session.add(batch)
    return batch


def get_import(import_id: int) -> BureauImport:
    batch = db.session.get(BureauImport, import_id)
    if batch is None:
        raise NotFound("导入记录不存在")
    return batch


def get_progress(import_id: int) -> BureauImport:
    """The batch's counters and status without its rows (the progress bar polls every second; a
    10,000-row batch's JSON is half a megabyte)."""
    batch = db.session.scalar(select(BureauImport).options(defer(BureauImport.rows))
                              .where(BureauImport.id == import_id))
    if batch is None:
        raise NotFound("导入记录不存在")
    return batch


def recent(limit: int = 10) -> list[BureauImport]:
    """The latest imports, newest first."""
    return list(db.session.scalars(select(BureauImport).order_by(BureauImport.id.desc()).limit(limit)))


#: Rows of a preview or report page (a 10,000-row file is 50 pages, not one 500 KB page).
PAGE_ROWS = 200


def page_rows(rows: list[dict], page: int, *, only_failed: bool = False) -> tuple[list[dict], int, int]:
    """One page of an import's rows (optionally only the failed ones): (rows, page, pages)."""
    if only_failed:
        rows = [r for r in rows if r["status"] == "error"]
    pages = max(1, -(-len(rows) // PAGE_ROWS))
    page = min(max(page, 1), pages)
    return rows[(page - 1) * PAGE_ROWS:page * PAGE_ROWS], page, pages


def row_counts(batch: BureauImport) -> dict[str, int]:
    """How many rows of the batch are ok, skipped, failed and applied."""
    counts = {"ok": 0, "skip": 0, "error": 0, "applied": 0}
    for row in batch.rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


#: A batch applying with no progress for this long has lost its runner (shown on the page).
STALLED_AFTER = timedelta(minutes=2)
#: Rows per transaction (set-based), with progress, heartbeat and outcomes saved in the same commit.
CHECKPOINT_ROWS = 500


def queue_apply(import_id: int, actor: Actor) -> BureauImport:
    """Hand a previewed batch to the jobs process (``icp-console jobs run``), which applies it."""
    with write_transaction():
        batch = get_import(import_id)
        if batch.status != "previewed":
            raise Invalid("此文件已导入", fields={"file": ["此文件已导入或正在导入，不能重复执行"]})
        batch.status, batch.applied_by, batch.heartbeat_at = "queued", actor.user_id, utcnow()
    return batch


def stalled(batch: BureauImport, now: datetime | None = None) -> bool:
    """Applying, but its runner has not reported for a while (it will be resumed)."""
    now = now or utcnow()
    return batch.status in ("queued", "applying") and (
        batch.heartbeat_at is None or now - batch.heartbeat_at > STALLED_AFTER)


def apply_pending(*, keep_going: Callable[[], bool] = lambda: True, now: datetime | None = None) -> dict:
    """The jobs process's step: apply (or resume) the oldest queued or interrupted batch."""
    batch_id = db.session.scalar(select(BureauImport.id).where(BureauImport.status.in_(["queued", "applying"]))
                                 .order_by(BureauImport.id).limit(1))
    if batch_id is None:
        return {}
    batch = get_import(batch_id)
    who = db.session.get(User, batch.applied_by or batch.created_by) if (batch.applied_by or batch.created_by) \
        else None
    actor = Actor.for_user(who) if who else Actor.system("system:import")
    resumed_from = batch.processed
    with write_transaction():
        get_import(batch_id).status = "applying"
    finished = apply_rows(batch_id, actor, keep_going=keep_going, now=now)
    current = get_import(batch_id)
    return {"import_id": batch_id, "resumed_from": resumed_from, "processed": current.processed,
            "applied": current.applied, "failed": current.failed, "finished": finished}


def apply_rows(import_id: int, actor: Actor, *, progress_every: int = CHECKPOINT_ROWS,
               keep_going: Callable[[], bool] = lambda: True, now: datetime | None = None) -> bool:
    """Apply the batch's rows from where it stopped, set-based, ``progress_every`` rows per
    transaction: the chunk's orders are read once and locked, each row is judged again against its
    order right before (a row changed by hand since the preview fails with why, one applied since
    is found done), the good rows are written by the write core's ``move_many`` (one UPDATE, one
    INSERT of history, one of outbox events), and the outcomes, the progress and the heartbeat are
    saved in the same commit. A chunk cut off midway commits nothing, so no row is applied twice.
    Returns whether it finished."""
    batch = get_import(import_id)
    rows = [dict(r) for r in batch.rows]
    start = batch.processed
    if start >= len(rows):
        _checkpoint(import_id, rows, len(rows))
        return True
    for chunk_start in range(start, len(rows), progress_every):
        end = min(len(rows), chunk_start + progress_every)
        with write_transaction():
            orders = lock_orders([r["order_no"] for r in rows[chunk_start:end] if r["status"] == "ok"])
            approvals, rejections = [], []
            for i in range(chunk_start, end):
                if rows[i]["status"] != "ok":
                    continue
                row = rows[i] = dict(rows[i])
                order = orders.get(row["order_no"])
                status, outcome, message = _judge(row, order, set())
                if status == "skip":  # ok at preview, in the result's state now: recorded since
                    row["status"], row["message"] = "applied", "已导入（中断后核对确认）"
                elif status != "ok":  # no longer applicable (changed by hand meanwhile)
                    row["status"], row["message"] = "error", message
                else:
                    if outcome == "approved":
                        approvals.append((order, row["filing_number"], row["reason"]))
                    else:
                        rejections.append((order, row["reason"]))
                    row["status"], row["message"] = "applied", "已导入"
            postreview.record_bureau_results(approvals, rejections, actor, now=now)
            # two counter rows per order written: fold them now rather than leave the readers to
            # sum them until the next sweep (last in the transaction but for the batch's own row,
            # so the compaction's row locks are never held while waiting for another lock)
            workcounts.compact()
            _save_progress(import_id, rows, end)
        if end < len(rows) and not keep_going():
            return False
    return True


def _checkpoint(import_id: int, rows: list[dict], processed: int) -> None:
    with write_transaction():
        _save_progress(import_id, rows, processed)


def _save_progress(import_id: int, rows: list[dict], processed: int) -> None:
    """The outcomes so far, the progress and the heartbeat (in the caller's transaction)."""
    batch = get_import(import_id)
    batch.rows, batch.processed, batch.heartbeat_at = rows, processed, utcnow()
    batch.applied = sum(r["status"] == "applied" for r in rows[:processed])
    batch.failed = sum(r["status"] == "error" for r in rows[:processed])
    if processed >= len(rows):
        batch.status, batch.finished_at = "done", utcnow()


def failures_csv(batch: BureauImport) -> bytes:
    """The rows that failed, with why (cells from the uploaded file cannot act as formulas)."""
    return csv_bytes(["行号", "订单号", "结果", "备案号", "原因", "失败原因"],
                     ([row["line"], row["order_no"], row["result"], row["filing_number"], row["reason"], row["message"]]
                      for row in batch.rows if row["status"] == "error"))
