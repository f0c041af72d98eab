"""The starting catalogue of coded rejection reasons (DOMAIN.md, "Rejection reasons").

Supervisors extend it in the settings; codes are stable because statistics count them.
"""

from __future__ import annotations

DEFAULT_REASONS: dict[str, str] = {
    "info_mismatch": "信息与原备案不一致",
    "address_province": "证件住所与通讯地址不在同一省份",
    "address_house_number": "通讯地址缺少门牌号且无备注说明",
    "contact_invalid": "联系电话或电子邮箱无效",
    "identity_invalid": "证件号码无效",
    "materials_missing": "资料缺失或无法辨认",
    "photo_mismatch": "资料照片与本人不符",
    "website_name": "网站名称不合规",
    "domain_mismatch": "域名与原备案不一致",
    "preapproval_missing": "缺少前置审批文件",
    "unreachable": "多次电话联系不上申请人",
    "other": "其他",
}

#: Reasons the system records (not offered in the reject form), for labels and statistics.
SYSTEM_REASONS: dict[str, str] = {
    "sms_expired": "短信核验超时未完成",
    "sms_failed": "短信核验失败",
    "bureau": "管局驳回",
}

#: Which reason a reviewer most likely means for a finding of each check (pre-ticked on reject).
REASON_FOR_CHECK: dict[str, str] = {
    "same_province": "address_province",
    "house_number": "address_house_number",
    "contacts": "contact_invalid",
    "sms_mobile": "contact_invalid",
    "consistency": "info_mismatch",
    "identity_number": "identity_invalid",
    "domain": "domain_mismatch",
    "prechecks": "materials_missing",
    "website_name": "website_name",
    "repeated_phone": "contact_invalid",
}
