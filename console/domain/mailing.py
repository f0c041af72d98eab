"""Couriers and their tracking-number formats (where one is known)."""

from __future__ import annotations

import re

COURIERS: dict[str, str] = {
    "sf": "顺丰", "ems": "EMS", "jd": "京东", "zto": "中通", "yto": "圆通", "yunda": "韵达", "sto": "申通",
    "other": "其他",
}
_FORMATS: dict[str, tuple[re.Pattern, str]] = {
    "sf": (re.compile(r"^SF\d{12,13}$"), "顺丰单号为 SF 加 12–13 位数字"),
    "ems": (re.compile(r"^([A-Z]{2}\d{9}[A-Z]{2}|\d{13})$"), "EMS 单号为 13 位数字，或 2 字母 + 9 数字 + 2 字母"),
    "jd": (re.compile(r"^JD[A-Z0-9]{11,16}$"), "京东单号以 JD 开头，后接 11–16 位字母或数字"),
    "zto": (re.compile(r"^\d{12,15}$"), "中通单号为 12–15 位数字"),
    "yto": (re.compile(r"^YT\d{13,15}$"), "圆通单号为 YT 加 13–15 位数字"),
    "yunda": (re.compile(r"^\d{13,15}$"), "韵达单号为 13–15 位数字"),
    "sto": (re.compile(r"^\d{12,15}$"), "申通单号为 12–15 位数字"),
}
_GENERIC = re.compile(r"^[A-Z0-9-]{6,30}$")

ITEM_STATUSES = {"ok": "合格", "missing": "缺失", "defective": "不合格"}


def tracking_problem(courier: str, number: str) -> str | None:
    """Why a tracking number does not fit the courier, or None."""
    if courier not in COURIERS:
        return "请选择快递公司"
    number = (number or "").strip().upper()
    if not number:
        return "请填写快递单号"
    known = _FORMATS.get(courier)
    if known and not known[0].match(number):
        return known[1]
    if not known and not _GENERIC.match(number):
        return "快递单号应为 6–30 位字母、数字或 -"
    return None
