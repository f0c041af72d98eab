"""The order body of the portal API, field by field, and where each field is stored.

One table serves the API parser, the model mapping, corrections and field diffs, so that a
field added to the contract is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    NEW_ACCESS = "new_access"
    CONTINUE_ACCESS = "continue_access"

    @property
    def label(self) -> str:
        return {"new_access": "新增接入", "continue_access": "继续接入"}[self.value]


SUBJECT_TYPES = {
    "enterprise": "企业",
    "individual": "个人",
    "institution": "事业单位",
    "government": "政府机关",
    "social_org": "社会团体",
}
CERTIFICATE_TYPES = {
    "uscc": "统一社会信用代码证书",
    "resident_id": "居民身份证",
    "organization_code": "组织机构代码证",
    "passport": "护照",
    "other": "其他证件",
}
ID_TYPES = {
    "resident_id": "居民身份证",
    "passport": "护照",
    "hk_macau_pass": "港澳居民来往内地通行证",
    "taiwan_pass": "台湾居民来往大陆通行证",
    "other": "其他证件",
}


@dataclass(frozen=True)
class Field:
    path: str  # dotted path in the order body
    column: str  # attribute of models.Order
    label: str  # 中文 label shown to reviewers
    kind: str = "str"  # str | bool | date (ISO YYYY-MM-DD, stored as text)
    required: bool = False
    max_length: int = 200
    choices: dict[str, str] | None = None
    editable: bool = True  # may a specialist correct it after a phone call


def _address(prefix: str, column: str, label: str) -> list[Field]:
    return [
        Field(f"{prefix}.province", f"{column}_province", f"{label}（省份）", required=True, max_length=20),
        Field(f"{prefix}.city", f"{column}_city", f"{label}（城市）", max_length=50),
        Field(f"{prefix}.district", f"{column}_district", f"{label}（区县）", max_length=50),
        Field(f"{prefix}.detail", f"{column}_detail", f"{label}（详细地址）", required=True, max_length=200),
    ]


SCALAR_FIELDS: tuple[Field, ...] = (
    Field("subject.type", "subject_type", "主办单位性质", required=True, choices=SUBJECT_TYPES),
    Field("subject.name", "subject_name", "主办单位名称", required=True, max_length=100),
    Field("subject.certificate_type", "subject_cert_type", "主办单位证件类型", required=True,
          choices=CERTIFICATE_TYPES),
    Field("subject.certificate_number", "subject_cert_number", "主办单位证件号码", required=True, max_length=50),
    *_address("subject.certificate_address", "cert", "主办单位证件住所"),
    *_address("subject.mailing_address", "mail", "主办单位通讯地址"),
    Field("subject.address_remark", "address_remark", "通讯地址备注", max_length=200),
    Field("subject.legal_representative", "legal_representative", "法定代表人", max_length=50),
    Field("subject.filing_number", "subject_filing_number", "主体备案号", max_length=40),
    Field("website.name", "website_name", "网站名称", required=True, max_length=100),
    Field("website.filing_number", "website_filing_number", "网站备案号", max_length=40),
    Field("website.previous_provider", "previous_provider", "原接入服务商", max_length=100),
    Field("principal.name", "principal_name", "网站负责人姓名", required=True, max_length=50),
    Field("principal.id_type", "principal_id_type", "负责人证件类型", required=True, choices=ID_TYPES),
    Field("principal.id_number", "principal_id_number", "负责人证件号码", required=True, max_length=50),
    Field("principal.mobile", "principal_mobile", "联系方式1（手机）", required=True, max_length=30),
    Field("principal.mobile2", "principal_mobile2", "联系方式2", max_length=30),
    Field("principal.email", "principal_email", "电子邮箱", max_length=254),
    Field("principal.emergency_phone", "principal_emergency_phone", "应急联系电话", max_length=30),
    Field("product.instance_id", "product_instance_id", "实例 ID", max_length=100, editable=False),
    Field("product.region", "product_region", "地域", max_length=50, editable=False),
    Field("product.public_ip", "product_public_ip", "公网 IP", max_length=45, editable=False),
    Field("product.verified", "product_verified", "产品验证", kind="bool", editable=False),
    Field("product.owner_account", "product_owner_account", "实例所属账号", max_length=100, editable=False),
    Field("product.service_end", "product_service_end", "服务到期日", kind="date", max_length=10, editable=False),
    Field("applicant.account", "applicant_account", "申请账号", max_length=100, editable=False),
    Field("prechecks.filing_password_verified", "filing_password_verified", "备案密码验证", kind="bool",
          editable=False),
    Field("prechecks.identity_verified", "identity_verified", "真实性核验", kind="bool", editable=False),
)
FIELDS_BY_PATH: dict[str, Field] = {f.path: f for f in SCALAR_FIELDS}
FIELDS_BY_COLUMN: dict[str, Field] = {f.column: f for f in SCALAR_FIELDS}

ORIGINAL_FILING_KEYS: dict[str, str] = {
    "subject_name": "主办单位名称",
    "certificate_number": "主办单位证件号码",
    "website_name": "网站名称",
    "domains": "域名",
    "principal_name": "网站负责人",
    "filing_number": "网站备案号",
}

#: Labels of the list-valued and top-level paths, for findings and diffs.
OTHER_LABELS: dict[str, str] = {
    "order_no": "订单号",
    "kind": "备案类型",
    "submitted_at": "提交时间",
    "website.domains": "网站域名",
    "materials": "上传资料",
    "original_filing": "原备案信息",
}


def label_for(path: str) -> str:
    if path in FIELDS_BY_PATH:
        return FIELDS_BY_PATH[path].label
    root = path.split("[")[0]
    return OTHER_LABELS.get(root, OTHER_LABELS.get(path, path))


def get_path(body: dict, path: str):
    """The value at a dotted path of a body-shaped dict (None where missing)."""
    node = body
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def set_path(body: dict, path: str, value) -> None:
    parts = path.split(".")
    node = body
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
