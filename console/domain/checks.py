"""The 初审 checks (DOMAIN.md, "What 初审 checks"): one function per rule, each returning findings.

Checks read a body-shaped dict (the portal's order body) and a ``CheckContext`` of facts about
other orders that the service gathers with indexed queries. They never touch the database, so
each rule can be read and tested on plain data. The ``code`` of a finding is a contract: pages
carry it as ``data-check`` and the API returns it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date

import idna
from publicsuffixlist import PublicSuffixList
from stdnum.cn import ric, uscc

from console.domain.emails import email_problem
from console.domain.materials import DEFAULT_REQUIRED, material_label, missing_materials
from console.domain.order_fields import ORIGINAL_FILING_KEYS, get_path
from console.domain.products import region_problem
from console.domain.provinces import PROVINCES, ProvinceRule

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # error | warning
    field: str  # dotted path into the order body
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CheckContext:
    """Facts about the world outside the order, gathered by the service."""

    province: ProvinceRule | None = None
    sms_required: bool = False
    subject_has_approved: bool = False  # the subject has a successful filing here
    subject_open_orders: tuple[str, ...] = ()  # other orders of the subject still in progress
    subject_bureau_orders: tuple[str, ...] = ()  # other orders of the subject in the bureau stage
    phone_owners: dict[str, tuple[str, ...]] = field(default_factory=dict)  # phone -> other subjects
    instance_orders: tuple[str, ...] = ()  # other live orders pointing at the same cloud instance
    today: date | None = None  # for the remaining service term
    min_service_days: int = 30
    max_orders_per_instance: int = 5
    required_materials: tuple[str, ...] | None = None  # None: the defaults for the subject type
    # The registry of filings made before the console (records as plain dicts, see
    # console.services.filings.as_fact):
    registered_subject_sites: tuple[dict, ...] = ()  # the subject's active filings here
    registered_number_holders: tuple[dict, ...] = ()  # other subjects under the same subject filing number
    registered_site: dict | None = None  # the record of the website's filing number


CheckFn = Callable[[dict, CheckContext], list[Finding]]
CHECKS: dict[str, CheckFn] = {}


def check(code: str) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        CHECKS[code] = fn
        return fn

    return register


def run_checks(body: dict, context: CheckContext) -> list[Finding]:
    """Every check's findings, errors first, in the order of DOMAIN.md's table."""
    findings: list[Finding] = []
    for fn in CHECKS.values():
        findings.extend(fn(body, context))
    return sorted(findings, key=lambda f: f.severity != ERROR)


# --- helpers -------------------------------------------------------------------------------

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
#: Mobile segments of virtual operators; MIIT's 12381 texts often do not reach them.
VIRTUAL_SEGMENTS = ("170", "171", "162", "165", "167")
#: A door number: digits (or Chinese numerals) and a unit — but not a road named by a number:
#: 一号路 alone is a road; 一号路8号 has its door number after it.
HOUSE_NUMBER_RE = re.compile(r"[0-9０-９A-Za-z一二三四五六七八九十百千零〇甲乙丙丁]+\s*(号|室|栋|幢|单元|楼|层)"
                             r"(?!\s*(大街|大道|胡同|公路|路|街|道|巷|弄|里|线))")
CJK_RE = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
STATE_ONLY_PREFIXES = ("中国", "中华", "中央", "人民", "人大", "国家")
STATE_SUBJECT_TYPES = {"government", "institution"}
#: The Public Suffix List's ICANN section, from the package's bundled snapshot (no network at
#: run time): which top-level and second-level suffixes exist, and where a registrable name starts.
PSL = PublicSuffixList(only_icann=True)


def normalise_phone(value: str) -> str:
    """Digits (and the landline dash) only; a leading +86 / 0086 is dropped for mobiles."""
    text = re.sub(r"[\s()（）]", "", value or "")
    text = re.sub(r"^(\+86|0086)", "", text)
    return text


def is_mobile(value: str) -> bool:
    return bool(MOBILE_RE.match(normalise_phone(value)))


def is_phone(value: str) -> bool:
    number = normalise_phone(value)
    return bool(MOBILE_RE.match(number) or LANDLINE_RE.match(number))


def domain_forms(name: str) -> tuple[str, str] | None:
    """(Unicode, punycode) of a domain, or None when it is not a valid host name."""
    try:
        ascii_form = idna.encode(name, uts46=True).decode("ascii")
        unicode_form = idna.decode(ascii_form)
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(labels) or len(ascii_form) > 253:
        return None
    if PSL.privatesuffix(ascii_form, accept_unknown=False) is None:
        return None  # an unknown top-level domain (yunzhan.notarealtld), or a bare suffix (com.cn)
    return unicode_form, ascii_form


def canonical_domain(name: str) -> str:
    """One form for comparing domains: punycode, lower case (例子.cn and xn--fsqu00a.cn are one);
    a name that is not a valid domain compares as written, lower-cased."""
    forms = domain_forms((name or "").strip().lower().rstrip("."))
    return forms[1] if forms else (name or "").strip().lower()


def registrable_part(ascii_form: str) -> str:
    """The name registered under its public suffix (www.yunzhan.com.cn → yunzhan.com.cn)."""
    return PSL.privatesuffix(ascii_form, accept_unknown=False) or ascii_form


#: What reviewers read for each check (the codes stay in the API and in data attributes).
CHECK_LABELS: dict[str, str] = {
    "same_province": "住所与通讯地址同省",
    "house_number": "门牌号",
    "contacts": "联系方式",
    "sms_mobile": "短信核验手机",
    "consistency": "与原备案一致",
    "filing_number": "备案号",
    "identity_number": "证件号码",
    "domain": "域名",
    "prechecks": "产品验证与核验",
    "filing_type": "备案类型",
    "subject_conflict": "主体冲突",
    "website_name": "网站名称",
    "repeated_phone": "号码重复使用",
    "product": "接入的云产品",
    "materials": "备案资料齐全",
}


def check_label(code: str) -> str:
    return CHECK_LABELS.get(code, code)


def _f(code: str, severity: str, path: str, message: str) -> Finding:
    return Finding(code, severity, path, message)


# --- the checks ----------------------------------------------------------------------------

@check("same_province")
def same_province(body: dict, ctx: CheckContext) -> list[Finding]:
    cert = get_path(body, "subject.certificate_address.province")
    mail = get_path(body, "subject.mailing_address.province")
    if cert and mail and cert != mail:
        return [_f("same_province", ERROR, "subject.mailing_address.province",
                   f"证件住所在{cert}，通讯地址在{mail}：两者须在同一省份")]
    return []


@check("house_number")
def house_number(body: dict, ctx: CheckContext) -> list[Finding]:
    detail = get_path(body, "subject.mailing_address.detail") or ""
    if HOUSE_NUMBER_RE.search(detail):
        return []
    remark = (get_path(body, "subject.address_remark") or "").strip()
    if remark:
        return [_f("house_number", WARNING, "subject.mailing_address.detail",
                   f"通讯地址没有详细门牌号，备注说明：{remark}")]
    return [_f("house_number", ERROR, "subject.mailing_address.detail",
               "通讯地址没有详细门牌号（…号、…室、…栋/幢、…单元、…楼），且未填写备注说明")]


@check("contacts")
def contacts(body: dict, ctx: CheckContext) -> list[Finding]:
    out = []
    mobile = get_path(body, "principal.mobile") or ""
    if not is_mobile(mobile):
        out.append(_f("contacts", ERROR, "principal.mobile", f"联系方式1「{mobile}」不是有效的大陆手机号码"))
    for path, label in (("principal.mobile2", "联系方式2"), ("principal.emergency_phone", "应急联系电话")):
        value = get_path(body, path) or ""
        if value and not is_phone(value):
            out.append(_f("contacts", ERROR, path, f"{label}「{value}」不是有效的电话号码"))
    email = get_path(body, "principal.email") or ""
    if not email:
        out.append(_f("contacts", ERROR, "principal.email", "未填写电子邮箱"))
    else:
        problem = email_problem(email)
        if problem:
            out.append(_f("contacts", ERROR, "principal.email", f"电子邮箱「{email}」无效：{problem}"))
    return out


@check("sms_mobile")
def sms_mobile(body: dict, ctx: CheckContext) -> list[Finding]:
    if not ctx.sms_required:
        return []
    mobile = normalise_phone(get_path(body, "principal.mobile") or "")
    if not MOBILE_RE.match(mobile):
        return [_f("sms_mobile", ERROR, "principal.mobile",
                   "该省份需短信核验，验证码只发送到联系方式1，联系方式1必须是手机号码")]
    if mobile.startswith(VIRTUAL_SEGMENTS):
        return [_f("sms_mobile", WARNING, "principal.mobile",
                   f"联系方式1 属虚拟运营商号段（{mobile[:3]}），可能收不到 12381 核验短信")]
    return []


_CONSISTENCY = (
    ("subject_name", "subject.name"),
    ("certificate_number", "subject.certificate_number"),
    ("website_name", "website.name"),
    ("domains", "website.domains"),
    ("principal_name", "principal.name"),
)


#: What the registry records about a website, compared with the order (key, path, label).
_REGISTRY_COMPARED = (
    ("subject_name", "subject.name", "主办单位名称"),
    ("certificate_number", "subject.certificate_number", "证件号码"),
    ("subject_filing_number", "subject.filing_number", "主体备案号"),
    ("website_name", "website.name", "网站名称"),
    ("domains", "website.domains", "域名"),
)


def _same(key: str, submitted, recorded) -> bool:
    if key == "domains":  # in one canonical form: Unicode and punycode spellings are the same name
        return sorted(set(map(canonical_domain, submitted or []))) == sorted(set(map(canonical_domain, recorded or [])))
    if key == "certificate_number":
        return (submitted or "").strip().upper() == (recorded or "").strip().upper()
    return (submitted or "").strip() == (recorded or "").strip()


def _shown(value) -> str:
    return "、".join(value or []) if isinstance(value, list) else (value or "")


@check("consistency")
def consistency(body: dict, ctx: CheckContext) -> list[Finding]:
    """The order against the original filing: the portal's record of it and, when the website's
    filing number is in this provider's registry of earlier filings, the registered record."""
    original = body.get("original_filing") or {}
    severity = ERROR if ctx.province and ctx.province.consistency_required else WARNING
    registered = ctx.registered_site
    if not original and not registered:
        return [_f("consistency", severity, "original_filing", "缺少原备案信息，无法核对一致性")]
    out = []
    for key, path in _CONSISTENCY:
        if key not in original:
            continue
        submitted, recorded = get_path(body, path), original[key]
        if not _same(key, submitted, recorded):
            out.append(_f("consistency", severity, path,
                          f"{ORIGINAL_FILING_KEYS[key]}与原备案不一致：提交「{_shown(submitted)}」，原备案「{_shown(recorded)}」"))
    if registered:
        for key, path, label in _REGISTRY_COMPARED:
            submitted, recorded = get_path(body, path), registered[key]
            if key == "domains" and not recorded:
                continue  # the registry did not record the domains
            if not _same(key, submitted, recorded):
                out.append(_f("consistency", severity, path,
                              f"{label}与本服务商登记的原备案（{registered['website_filing_number']}）不一致："
                              f"提交「{_shown(submitted)}」，登记「{_shown(recorded)}」"))
    return out


SUBJECT_NO_RE = re.compile(r"^(?P<prefix>.{1,2}?)ICP备(?P<digits>\d{6,10})号$")
WEBSITE_NO_RE = re.compile(r"^(?P<prefix>.{1,2}?)ICP备(?P<digits>\d{6,10})号-(?P<n>[1-9]\d{0,3})$")


def filing_number_problem(number: str, *, website: bool, province: str | None) -> str | None:
    """Why a filing number is malformed for ``province``, or None when it is fine."""
    pattern = WEBSITE_NO_RE if website else SUBJECT_NO_RE
    shape = "<省份简称>ICP备<数字>号-<序号>" if website else "<省份简称>ICP备<数字>号"
    match = pattern.match(number)
    if not match:
        return f"「{number}」格式应为 {shape}"
    rule = PROVINCES.get(province or "")
    if rule and match["prefix"] != rule.icp_prefix:
        return f"「{number}」的省份简称应为「{rule.icp_prefix}」（{province}）"
    return None


@check("filing_number")
def filing_number(body: dict, ctx: CheckContext) -> list[Finding]:
    province = get_path(body, "subject.certificate_address.province")
    subject_no = get_path(body, "subject.filing_number") or ""
    website_no = get_path(body, "website.filing_number") or ""
    out = []
    for path, number, website in (("subject.filing_number", subject_no, False),
                                  ("website.filing_number", website_no, True)):
        if not number:
            out.append(_f("filing_number", ERROR, path, "接入备案须填写原备案号"))
            continue
        problem = filing_number_problem(number, website=website, province=province)
        if problem:
            out.append(_f("filing_number", ERROR, path, problem))
    if subject_no and website_no and not out and not website_no.startswith(subject_no + "-"):
        out.append(_f("filing_number", ERROR, "website.filing_number",
                      f"网站备案号「{website_no}」不属于主体备案号「{subject_no}」"))
    if ctx.registered_site and ctx.registered_site["status"] == "cancelled":
        out.append(_f("filing_number", ERROR, "website.filing_number",
                      f"网站备案号「{website_no}」在本服务商的备案登记中已注销，不能据此接入"))
    return out


def identity_problem(kind: str, number: str) -> str | None:
    """Why an identity number of ``kind`` is invalid, or None (other kinds are not checked)."""
    if kind == "resident_id":
        if not ric.is_valid(number):
            return f"居民身份证号码「{number}」无效（18 位，校验码须符合 GB 11643）"
    elif kind == "uscc" and not uscc.is_valid(number):
        return f"统一社会信用代码「{number}」无效（18 位，校验码须符合 GB 32100）"
    return None


@check("identity_number")
def identity_number(body: dict, ctx: CheckContext) -> list[Finding]:
    out = []
    for kind_path, number_path in (("subject.certificate_type", "subject.certificate_number"),
                                   ("principal.id_type", "principal.id_number")):
        problem = identity_problem(get_path(body, kind_path) or "", get_path(body, number_path) or "")
        if problem:
            out.append(_f("identity_number", ERROR, number_path, problem))
    return out


@check("domain")
def domain(body: dict, ctx: CheckContext) -> list[Finding]:
    out = []
    for i, name in enumerate(get_path(body, "website.domains") or []):
        path = f"website.domains[{i}]"
        forms = domain_forms(name)
        if forms is None:
            out.append(_f("domain", ERROR, path, f"「{name}」不是有效的域名"))
            continue
        unicode_form, ascii_form = forms
        shown = unicode_form if unicode_form == ascii_form else f"{unicode_form}（{ascii_form}）"
        if registrable_part(ascii_form) != ascii_form:
            out.append(_f("domain", WARNING, path,
                          f"「{shown}」不是主域名，接入备案应填写主域名 {registrable_part(ascii_form)}"))
    return out


@check("prechecks")
def prechecks(body: dict, ctx: CheckContext) -> list[Finding]:
    out = []
    for path, message in (("product.verified", "产品验证未通过（须绑定本服务商的云服务器实例）"),
                          ("prechecks.filing_password_verified", "备案密码未验证"),
                          ("prechecks.identity_verified", "网站负责人真实性核验未完成")):
        if not get_path(body, path):
            out.append(_f("prechecks", ERROR, path, message))
    if not body.get("materials"):
        out.append(_f("prechecks", ERROR, "materials", "未上传备案资料"))
    return out


def _registered_numbers(ctx: CheckContext) -> str:
    return "、".join(f["website_filing_number"] for f in ctx.registered_subject_sites[:3])


@check("filing_type")
def filing_type(body: dict, ctx: CheckContext) -> list[Finding]:
    """新增接入 / 继续接入 by whether the subject holds a filing here: an order approved in the
    console, or a filing in the registry of filings made before it."""
    kind = body.get("kind")
    holds_filing = ctx.subject_has_approved or bool(ctx.registered_subject_sites)
    if kind == "continue_access":
        out = []
        if not holds_filing:
            out.append(_f("filing_type", ERROR, "kind",
                          "继续接入备案要求主体在本服务商已有成功备案；该主体没有，应为新增接入备案"))
        if ctx.subject_open_orders:
            out.append(_f("filing_type", ERROR, "kind",
                          "该主体还有进行中的备案订单：" + "、".join(ctx.subject_open_orders)))
        return out
    if kind == "new_access" and holds_filing:
        where = (f"（登记的已有备案：{_registered_numbers(ctx)}）"
                 if ctx.registered_subject_sites and not ctx.subject_has_approved else "")
        return [_f("filing_type", ERROR, "kind", f"该主体在本服务商已有成功备案{where}，应为继续接入备案")]
    return []


@check("subject_conflict")
def subject_conflict(body: dict, ctx: CheckContext) -> list[Finding]:
    """A subject the bureau would report as conflicting (主办者冲突): another order of it in the
    bureau stage, or a subject filing number registered here to another subject, or a subject
    registered here under another subject filing number."""
    out = []
    if ctx.subject_bureau_orders:
        out.append(_f("subject_conflict", ERROR, "subject.certificate_number",
                      "同一主体已有订单在管局审核阶段（管局会返回主办者冲突）：" + "、".join(ctx.subject_bureau_orders)))
    for holder in ctx.registered_number_holders[:1]:
        out.append(_f("subject_conflict", ERROR, "subject.filing_number",
                      f"主体备案号「{holder['subject_filing_number']}」在本服务商登记的主体是「{holder['subject_name']}」"
                      f"（证件号码 {holder['certificate_number']}），与提交的主体不一致"))
    subject_no = get_path(body, "subject.filing_number") or ""
    registered_nos = sorted({f["subject_filing_number"] for f in ctx.registered_subject_sites})
    if subject_no and registered_nos and subject_no not in registered_nos:
        out.append(_f("subject_conflict", ERROR, "subject.filing_number",
                      f"该主体在本服务商登记的主体备案号是「{'、'.join(registered_nos)}」，提交的是「{subject_no}」"))
    return out


@check("website_name")
def website_name(body: dict, ctx: CheckContext) -> list[Finding]:
    name = (get_path(body, "website.name") or "").strip()
    path = "website.name"
    out = []
    if len(CJK_RE.findall(name)) < 3:
        out.append(_f("website_name", ERROR, path, f"网站名称「{name}」须至少包含 3 个汉字，不能只用数字或字母"))
    lowered = name.lower()
    domains = get_path(body, "website.domains") or []
    if lowered in domains or domain_forms(lowered) is not None:
        out.append(_f("website_name", ERROR, path, "网站名称不能是域名"))
    if name.startswith(STATE_ONLY_PREFIXES) and get_path(body, "subject.type") not in STATE_SUBJECT_TYPES:
        out.append(_f("website_name", ERROR, path,
                      f"以「{name[:2]}」开头的网站名称仅限国家机关、事业单位使用"))
    return out


@check("repeated_phone")
def repeated_phone(body: dict, ctx: CheckContext) -> list[Finding]:
    out = []
    seen: dict[str, str] = {}
    for path in ("principal.mobile", "principal.mobile2", "principal.emergency_phone"):
        number = normalise_phone(get_path(body, path) or "")
        if not number:
            continue
        if number in seen:
            out.append(_f("repeated_phone", ERROR, path, f"与{seen[number]}号码重复"))
        else:
            seen[number] = {"principal.mobile": "联系方式1", "principal.mobile2": "联系方式2"}.get(path, "应急电话")
    for number, owners in ctx.phone_owners.items():
        if owners:
            out.append(_f("repeated_phone", WARNING, "principal.mobile",
                          f"号码 {number} 已被其他主体使用：" + "、".join(owners[:3])))
    return out


@check("product")
def product(body: dict, ctx: CheckContext) -> list[Finding]:
    """The instance the website will run on: in mainland China, owned by the applicant's account,
    paid for long enough, not shared by too many filings. Bodies sent before the portal reported
    ownership and term get one warning instead (their ``verified`` flag is all there is)."""
    out = []
    instance = (get_path(body, "product.instance_id") or "").strip()
    if not instance:
        return [_f("product", ERROR, "product.instance_id", "未提供云服务器实例，无法进行产品验证")]
    region = region_problem(get_path(body, "product.region") or "")
    if region:
        out.append(_f("product", region[0], "product.region", region[1]))
    owner = (get_path(body, "product.owner_account") or "").strip()
    applicant = (get_path(body, "applicant.account") or "").strip()
    end = get_path(body, "product.service_end") or ""
    if not owner or not end:
        out.append(_f("product", WARNING, "product.verified",
                      "申请端未提供实例所属账号或服务到期日，只有“产品验证”标记可依，请人工核对实例"))
    if owner and applicant and owner != applicant:
        out.append(_f("product", ERROR, "product.owner_account",
                      f"实例属于账号 {owner}，不是申请账号 {applicant}：须使用本人账号下的实例"))
    if end and ctx.today is not None:
        left = (date.fromisoformat(end) - ctx.today).days
        if left < ctx.min_service_days:
            out.append(_f("product", ERROR, "product.service_end",
                          f"实例服务期剩余 {max(left, 0)} 天（{end} 到期），少于 {ctx.min_service_days} 天"))
    if len(ctx.instance_orders) >= ctx.max_orders_per_instance:
        out.append(_f("product", WARNING, "product.instance_id",
                      f"该实例已用于 {len(ctx.instance_orders)} 个其他订单（上限 {ctx.max_orders_per_instance}）："
                      + "、".join(ctx.instance_orders[:5])))
    return out


@check("materials")
def materials(body: dict, ctx: CheckContext) -> list[Finding]:
    """Every kind of material the subject type and the province require, and an authorisation
    letter when the website's principal is not the legal representative (no files at all: see
    ``prechecks``)."""
    uploaded = body.get("materials") or []
    if not uploaded:
        return []
    required = ctx.required_materials
    if required is None:
        required = DEFAULT_REQUIRED.get(get_path(body, "subject.type") or "", ())
    if ctx.province and ctx.province.required_materials:  # what this province's bureau adds
        required = tuple(dict.fromkeys((*required, *ctx.province.required_materials)))
    missing = missing_materials(tuple(required), uploaded, principal=get_path(body, "principal.name") or "",
                                legal_representative=get_path(body, "subject.legal_representative") or "")
    out = []
    if missing:
        out.append(_f("materials", ERROR, "materials", "缺少资料：" + "、".join(material_label(k) for k in missing)))
    for i, m in enumerate(uploaded):
        if m.get("wrong_kind"):
            out.append(_f("materials", WARNING, f"materials[{i}]",
                          f"「{m.get('filename')}」经审核与所标类型（{material_label(m.get('kind', ''))}）不符"))
    return out


def sms_required(rule: ProvinceRule | None, submitted_on: date) -> bool:
    return bool(rule and rule.sms_required_for(submitted_on))
