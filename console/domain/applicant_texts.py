"""The events an applicant hears of, and the Chinese message each carries.

An event's ``data.text`` is its template rendered for the order at the time of the change, so a
portal can show or send it as is. Supervisors reword the templates (/settings/texts); these are
the defaults. Placeholders: {order_no} {subject} {site} {domain} {province} {reasons} {note}
{deadline} {filing_number}; a placeholder that does not apply to an event renders empty.
"""

from __future__ import annotations

import string
from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    code: str
    label: str
    default: str


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("order.submitted", "订单已提交", "您的接入备案订单 {order_no}（{site}）已提交，我们将在 {deadline}完成初审。"),
    EventType("order.resubmitted", "订单已重新提交", "您修改后的订单 {order_no} 已重新提交，我们将在 {deadline}完成初审。"),
    EventType("review.approved", "初审通过", "您的订单 {order_no}（{site}）已通过初审。"),
    EventType("review.returned", "初审退回", "您的订单 {order_no} 未通过初审，原因：{reasons}。{note} 请修改后重新提交。"),
    EventType("mailing.requested", "请邮寄资料", "请将订单 {order_no} 的纸质资料邮寄至指定地址，并在控制台填写快递单号。"),
    EventType("materials.received", "资料已签收", "我们已收到订单 {order_no} 的邮寄资料，正在核对。"),
    EventType("materials.check_failed", "资料核对不通过", "订单 {order_no} 的邮寄资料核对不通过：{reasons}。{note} 请重新邮寄。"),
    EventType("materials.check_passed", "资料核对通过", "订单 {order_no} 的邮寄资料核对通过。"),
    EventType("sms.verification_due", "请完成短信核验", "工信部已向网站负责人手机发送核验短信，请在 24 小时内完成订单 {order_no} 的短信核验。"),
    EventType("sms.verified", "短信核验完成", "订单 {order_no} 的短信核验已完成。"),
    EventType("sms.expired", "短信核验已过期", "订单 {order_no} 的短信核验未在 24 小时内完成，已过期。订单已退回，请重新提交。"),
    EventType("sms.failed", "短信核验失败", "订单 {order_no} 的短信核验未完成：{note}。订单已退回，请重新提交。"),
    EventType("bureau.submitted", "已提交管局审核", "订单 {order_no} 已提交{province}管局审核，预计 {deadline}有结果。"),
    EventType("bureau.approved", "管局审核通过", "恭喜，订单 {order_no}（{site}）已通过管局审核，网站备案号 {filing_number}。"),
    EventType("bureau.rejected", "管局驳回", "订单 {order_no} 未通过管局审核：{note}。请修改后重新提交。"),
    EventType("order.abandoned", "已放弃备案", "订单 {order_no} 已按您的申请放弃。"),
    EventType("order.revoked", "已撤销备案", "订单 {order_no} 已按您的申请撤销。"),
    EventType("deadline.changed", "时限变更", "订单 {order_no} 当前环节的预计完成时间调整为 {deadline}。"),
)
EVENT_TYPE_CODES: tuple[str, ...] = tuple(t.code for t in EVENT_TYPES)
EVENT_LABELS: dict[str, str] = {t.code: t.label for t in EVENT_TYPES}
DEFAULT_TEXTS: dict[str, str] = {t.code: t.default for t in EVENT_TYPES}
PLACEHOLDERS: dict[str, str] = {
    "order_no": "订单号", "subject": "主办单位名称", "site": "网站名称", "domain": "主域名", "province": "省份",
    "reasons": "原因", "note": "说明", "deadline": "预计完成时间", "filing_number": "网站备案号",
}
MAX_TEMPLATE = 500


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot be used (unknown placeholder, stray brace, too long), or None."""
    if not template or not template.strip():
        return "不能为空"
    if len(template) > MAX_TEMPLATE:
        return f"最多 {MAX_TEMPLATE} 个字"
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError:
        return "花括号不成对：占位符写作 {order_no}，其余文字中不能有单独的 { 或 }"
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        return "未知的占位符：" + "、".join("{" + f + "}" for f in unknown)
    if any(spec or conv for _, name, spec, conv in string.Formatter().parse(template) if name is not None):
        return "占位符中不能有格式说明"
    return None


def render(template: str, values: dict[str, str]) -> str:
    """The template with ``values`` (missing ones empty); whitespace left by empty ones collapsed."""
    text = template.format_map({name: values.get(name, "") or "" for name in PLACEHOLDERS})
    text = " ".join(text.split())
    for doubled, single in (("。。", "。"), ("。 。", "。"), ("：。", "。"), ("，。", "。")):
        text = text.replace(doubled, single)
    return text
