"""Kinds of uploaded material, as the portal codes them and as reviewers read them."""

from __future__ import annotations

MATERIAL_KINDS: dict[str, str] = {
    "uscc_certificate": "营业执照 / 统一社会信用代码证书",
    "org_certificate": "组织机构代码证",
    "institution_certificate": "事业单位法人证书",
    "social_org_certificate": "社会团体法人登记证书",
    "government_document": "政府机关设立文件",
    "principal_id": "负责人身份证件",
    "legal_rep_id": "法定代表人身份证件",
    "authorization_letter": "授权书",
    "verification_photo": "核验照片（幕布照）",
    "verification_form": "网站备案信息真实性核验单",
    "security_commitment": "信息安全管理协议 / 承诺书",
    "domain_certificate": "域名证书",
    "preapproval": "前置审批文件",
    "residence_permit": "居住证",
    "other": "其他资料",
}


def material_label(kind: str) -> str:
    """The Chinese name of a material kind; an unknown code is shown as 其他资料 with the code."""
    return MATERIAL_KINDS.get(kind) or f"其他资料（{kind}）"


#: The material kinds each kind of subject must upload (supervisors change them in /settings).
#: Besides these, a principal who is not the legal representative needs an authorisation letter.
DEFAULT_REQUIRED: dict[str, tuple[str, ...]] = {
    "enterprise": ("uscc_certificate", "principal_id"),
    "individual": ("principal_id",),
    "institution": ("institution_certificate", "principal_id"),
    "government": ("government_document", "principal_id"),
    "social_org": ("social_org_certificate", "principal_id"),
}
AUTHORIZATION = "authorization_letter"


def missing_materials(required: tuple[str, ...], materials: list[dict], *, principal: str,
                      legal_representative: str) -> list[str]:
    """The required kinds with no usable file (a file a reviewer marked as the wrong kind does
    not count), the authorisation letter included when the principal is someone else."""
    present = {m.get("kind") for m in materials if not m.get("wrong_kind")}
    wanted = list(required)
    if legal_representative and principal and legal_representative.strip() != principal.strip():
        wanted.append(AUTHORIZATION)
    return [kind for kind in dict.fromkeys(wanted) if kind not in present]
