"""The 31 provincial bureaus and the default rules that drive routing and deadlines.

The defaults are data; supervisors override them per province (stored rows win), so nothing
here is consulted directly by services except through ``ProvinceRule.with_overrides``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

#: Since this date SMS verification applies in every province (other providers' documentation);
#: provinces outside the seed's three pilot waves get it as their start date.
SMS_EVERYWHERE_FROM = date(2020, 8, 17)

DEFAULT_MAIL_ITEMS: tuple[str, ...] = (
    "网站备案信息真实性核验单（签字并加盖公章）",
    "主办单位证件复印件",
    "网站负责人身份证复印件",
)


@dataclass(frozen=True)
class ProvinceRule:
    name: str
    icp_prefix: str
    sms_required_from: date | None
    #: None: the bureau_review stage limit applies (20 working days by default).
    bureau_limit_days: int | None = None
    mailing_required: bool = False
    mailing_items: tuple[str, ...] = field(default=DEFAULT_MAIL_ITEMS)
    mailing_address: str = ""
    consistency_required: bool = False
    #: Material kinds this province's bureau requires of every subject, beyond those its type needs.
    required_materials: tuple[str, ...] = ()

    def sms_required_for(self, submitted_on: date) -> bool:
        """Whether an order submitted on this (Asia/Shanghai) date needs SMS verification."""
        return self.sms_required_from is not None and submitted_on >= self.sms_required_from

    def with_overrides(self, **changes) -> ProvinceRule:
        return replace(self, **changes)


def _rule(name: str, prefix: str, sms: date | None, **kw) -> ProvinceRule:
    return ProvinceRule(name=name, icp_prefix=prefix, sms_required_from=sms or SMS_EVERYWHERE_FROM, **kw)


_W1 = date(2017, 12, 18)  # first pilot wave
_W2 = date(2018, 9, 10)
_W3 = date(2018, 9, 24)

PROVINCES: dict[str, ProvinceRule] = {
    r.name: r
    for r in (
        _rule("北京", "京", None),
        _rule("天津", "津", _W1),
        _rule("河北", "冀", None),
        _rule("山西", "晋", _W3),
        _rule("内蒙古", "蒙", _W3),
        _rule("辽宁", "辽", None),
        _rule("吉林", "吉", None),
        _rule("黑龙江", "黑", _W3),
        _rule("上海", "沪", None),
        _rule("江苏", "苏", None),
        _rule("浙江", "浙", _W2, bureau_limit_days=30),
        _rule("安徽", "皖", _W3),
        _rule("福建", "闽", _W2),
        _rule("江西", "赣", None),
        _rule("山东", "鲁", _W3),
        _rule("河南", "豫", _W3),
        _rule("湖北", "鄂", _W3),
        _rule("湖南", "湘", _W3),
        _rule("广东", "粤", None),
        _rule("广西", "桂", _W2),
        _rule("海南", "琼", _W1),
        _rule("重庆", "渝", _W2),
        _rule("四川", "蜀", _W2),
        _rule("贵州", "黔", None),
        _rule("云南", "滇", _W2),
        _rule("西藏", "藏", _W1),
        _rule("陕西", "陕", _W2),
        _rule("甘肃", "陇", _W1),
        _rule("青海", "青", _W1),
        _rule("宁夏", "宁", _W1),
        _rule("新疆", "新", _W1),
    )
}

PROVINCE_NAMES: tuple[str, ...] = tuple(PROVINCES)
PREFIX_TO_PROVINCE: dict[str, str] = {r.icp_prefix: r.name for r in PROVINCES.values()}

#: Longer official names an address may start with, mapped to the short name used everywhere.
_LONG_NAMES = {
    "北京市": "北京", "天津市": "天津", "上海市": "上海", "重庆市": "重庆",
    "内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏",
    "宁夏回族自治区": "宁夏", "新疆维吾尔自治区": "新疆",
}


def normalise_province(text: str) -> str | None:
    """Map '浙江', '浙江省', '广西壮族自治区' to the short name; None if it is not a province."""
    text = (text or "").strip()
    if text in PROVINCES:
        return text
    if text in _LONG_NAMES:
        return _LONG_NAMES[text]
    if text.endswith("省") and text[:-1] in PROVINCES:
        return text[:-1]
    return None
