"""Realistic demo data: Chinese subjects across provinces, valid (and some invalid) numbers,
orders in every state with plausible histories, some overdue, some with findings.

Orders go through the same services as real ones (intake, claims, decisions), with the clock
set back, so their histories and due dates are what the console would have recorded.
"""

from __future__ import annotations

import logging
import random
import secrets
import string
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from stdnum.cn import ric, uscc

from console.database import write_transaction
from console.domain.calendar import SHANGHAI, to_local, utcnow
from console.domain.provinces import PROVINCES
from console.domain.workflow import Action, State
from console.extensions import db
from console.models import Filing, Order, ProvinceRuleRow, User
from console.services import accounts, postreview
from console.services import orders as order_service
from console.services.actors import Actor
from console.services.errors import ServiceError

log = logging.getLogger(__name__)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌浩宇欣怡晨阳雪婷"
WORDS = ["云栈", "星河", "蓝海", "青禾", "远航", "拓维", "睿思", "博远", "嘉禾", "恒信", "天成", "优创", "智联",
         "华章", "新程", "锦程", "聚力", "启明", "鼎盛", "合力", "晨光", "易达", "瑞丰", "卓越"]
TRADES = ["科技", "网络科技", "信息技术", "文化传媒", "电子商务", "教育科技", "软件", "数据服务"]
SITES = ["官网", "企业官网", "在线商城", "技术博客", "服务平台", "资讯网", "学习平台", "产品展示"]
PINYIN = ["yunzhan", "xinghe", "lanhai", "qinghe", "yuanhang", "tuowei", "ruisi", "boyuan", "jiahe", "hengxin",
          "tiancheng", "youchuang", "zhilian", "huazhang", "xincheng", "jincheng", "juli", "qiming", "dingsheng",
          "heli", "chenguang", "yida", "ruifeng", "zhuoyue"]
TLDS = [".cn", ".com", ".com.cn", ".net", ".net.cn", ".org.cn", ".top"]
#: (city, district, region code, street) for each province: enough for realistic addresses.
PLACES = {
    "北京": ("北京市", "海淀区", "110108", "中关村大街"), "天津": ("天津市", "南开区", "120104", "鞍山西道"),
    "河北": ("石家庄市", "长安区", "130102", "中山东路"), "山西": ("太原市", "小店区", "140105", "长风街"),
    "内蒙古": ("呼和浩特市", "赛罕区", "150105", "大学东街"), "辽宁": ("沈阳市", "和平区", "210102", "南京北街"),
    "吉林": ("长春市", "朝阳区", "220104", "人民大街"), "黑龙江": ("哈尔滨市", "南岗区", "230103", "西大直街"),
    "上海": ("上海市", "浦东新区", "310115", "张江路"), "江苏": ("南京市", "鼓楼区", "320106", "中山北路"),
    "浙江": ("杭州市", "西湖区", "330106", "文三路"), "安徽": ("合肥市", "蜀山区", "340104", "长江西路"),
    "福建": ("福州市", "鼓楼区", "350102", "五四路"), "江西": ("南昌市", "红谷滩区", "360113", "丰和中大道"),
    "山东": ("济南市", "历下区", "370102", "经十路"), "河南": ("郑州市", "金水区", "410105", "花园路"),
    "湖北": ("武汉市", "洪山区", "420111", "珞喻路"), "湖南": ("长沙市", "岳麓区", "430104", "麓山南路"),
    "广东": ("深圳市", "南山区", "440305", "科技园南路"), "广西": ("南宁市", "青秀区", "450103", "民族大道"),
    "海南": ("海口市", "龙华区", "460106", "滨海大道"), "重庆": ("重庆市", "渝北区", "500112", "金开大道"),
    "四川": ("成都市", "武侯区", "510107", "天府大道"), "贵州": ("贵阳市", "观山湖区", "520115", "长岭北路"),
    "云南": ("昆明市", "五华区", "530102", "东风西路"), "西藏": ("拉萨市", "城关区", "540102", "北京中路"),
    "陕西": ("西安市", "雁塔区", "610113", "高新路"), "甘肃": ("兰州市", "城关区", "620102", "东岗西路"),
    "青海": ("西宁市", "城中区", "630103", "西大街"), "宁夏": ("银川市", "金凤区", "640106", "北京中路"),
    "新疆": ("乌鲁木齐市", "天山区", "650102", "解放北路"),
}
#: Where provinces are busiest: weights for picking a province.
WEIGHTS = {"广东": 14, "浙江": 10, "北京": 9, "上海": 8, "江苏": 8, "山东": 5, "四川": 4, "福建": 4, "湖北": 3}
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DEMO_MAILING = {"北京": "北京市海淀区中关村大街1号 备案资料收件组（100080）",
                "海南": "海口市龙华区滨海大道99号 备案资料收件组（570100）"}


def make_resident_id(rng: random.Random, region: str, *, valid: bool = True) -> str:
    born = datetime(1965, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
    body = f"{region}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    check = ric.calc_check_digit(body + "0")
    if not valid:
        check = rng.choice([c for c in "0123456789X" if c != check])
    return body + check


def make_uscc(rng: random.Random, region: str, *, valid: bool = True) -> str:
    body = "91" + region + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    check = uscc.calc_check_digit(body + "0")
    if not valid:
        check = rng.choice([c for c in USCC_ALPHABET if c != check])
    return body + check


def make_mobile(rng: random.Random) -> str:
    return rng.choice(["138", "139", "136", "158", "186", "188", "177", "199", "135", "150"]) + \
        "".join(rng.choice(string.digits) for _ in range(8))


def make_body(rng: random.Random, no: str, submitted_at: datetime, *, flaws: set[str]) -> dict:
    """A portal order body; ``flaws`` names the findings this order should trigger."""
    province = rng.choices(list(PLACES), weights=[WEIGHTS.get(p, 1) for p in PLACES])[0]
    city, district, region, street = PLACES[province]
    word = rng.randrange(len(WORDS))
    name = f"{city[:2]}{WORDS[word]}{rng.choice(TRADES)}有限公司"
    cert = make_uscc(rng, region, valid="uscc" not in flaws)
    person = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    prefix = PROVINCES[province].icp_prefix
    filing = f"{prefix}ICP备{rng.randrange(10**7, 10**8)}号"
    domain = f"{PINYIN[word]}{rng.randrange(1, 999)}{rng.choice(TLDS)}"
    domains = [domain] + ([f"{PINYIN[word]}-{rng.randrange(10, 99)}.cn"] if rng.random() < 0.2 else [])
    number = f"{rng.randrange(1, 300)}号" + (f"{rng.randrange(1, 30)}楼{rng.randrange(101, 2000)}室"
                                            if rng.random() < 0.6 else "")
    address = {"province": province, "city": city, "district": district, "detail": f"{street}{number}"}
    mailing = dict(address)
    if "house_number" in flaws:
        mailing["detail"] = f"{street}{WORDS[word]}产业园"
    if "same_province" in flaws:
        other = rng.choice([p for p in PLACES if p != province])
        ocity, odistrict, _, ostreet = PLACES[other]
        mailing = {"province": other, "city": ocity, "district": odistrict, "detail": f"{ostreet}{number}"}
    site_name = f"{WORDS[word]}{rng.choice(SITES)}"
    mobile = make_mobile(rng)
    account = f"acct-{rng.randrange(10**6, 10**7)}"
    original = {"subject_name": name, "certificate_number": cert, "website_name": site_name,
                "domains": list(domains), "principal_name": person, "filing_number": f"{filing}-1"}
    if "consistency" in flaws:
        original["website_name"] = f"{WORDS[word]}网"
    return {
        "order_no": no,
        "kind": "new_access",
        "submitted_at": submitted_at.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "subject": {"type": "enterprise", "name": name, "certificate_type": "uscc", "certificate_number": cert,
                    "certificate_address": address, "mailing_address": mailing, "address_remark": "",
                    "filing_number": filing, "legal_representative": person},
        "website": {"name": site_name, "domains": domains, "filing_number": f"{filing}-1",
                    "previous_provider": rng.choice(["某云计算有限公司", "另一家云服务商", "某数据中心"])},
        "principal": {"name": person, "id_type": "resident_id",
                      "id_number": make_resident_id(rng, region, valid="resident_id" not in flaws),
                      "mobile": "0571-8888" + mobile[-4:] if "mobile" in flaws else mobile, "mobile2": "",
                      "email": f"{PINYIN[word]}@{domain}" if "email" not in flaws else f"{PINYIN[word]}@",
                      "emergency_phone": ""},
        "product": {"instance_id": "i-" + "".join(rng.choice(string.ascii_lowercase + string.digits)
                                                  for _ in range(16)),
                    "region": "cn-hongkong" if "region" in flaws else
                    rng.choice(["cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen"]),
                    "public_ip": f"47.{rng.randrange(90, 120)}.{rng.randrange(0, 255)}.{rng.randrange(1, 254)}",
                    "verified": "product" not in flaws,
                    "owner_account": account, "service_end": (submitted_at + timedelta(
                        days=rng.randrange(5, 20) if "term" in flaws else rng.randrange(90, 720))).date().isoformat()},
        "applicant": {"account": account},
        "prechecks": {"filing_password_verified": True, "identity_verified": True},
        "materials": [
            {"kind": "uscc_certificate", "filename": "营业执照.jpg", "sha256": secrets.token_hex(32),
             "size": rng.randrange(200_000, 3_000_000)},
            *([] if "materials" in flaws else [
                {"kind": "principal_id", "filename": "负责人身份证.jpg", "sha256": secrets.token_hex(32),
                 "size": rng.randrange(100_000, 2_000_000)}]),
        ],
        "original_filing": original,
    }


FLAWS = ["house_number", "same_province", "uscc", "resident_id", "consistency", "mobile", "email", "product",
         "region", "term", "materials", "registered"]
#: Share of orders whose subject already held a filing here before the console (继续接入备案).
CONTINUING = 0.08
#: (final state, share of orders)
MIX = [
    (State.INITIAL_REVIEW, 0.34), (State.RETURNED, 0.07), (State.AWAITING_MAIL, 0.04), (State.MAIL_CHECK, 0.03),
    (State.SMS_VERIFICATION, 0.06), (State.BUREAU_REVIEW, 0.17), (State.APPROVED, 0.19),
    (State.BUREAU_REJECTED, 0.04), (State.ABANDONED, 0.03), (State.REVOKED, 0.03),
]


DEMO_USERS = (("zhangmin", "张敏", "specialist"), ("liqiang", "李强", "specialist"),
              ("wangfang", "王芳", "supervisor"), ("admin", "系统管理员", "admin"))


def other_users() -> list[str]:
    """Users that the demo did not make: a database with any of them is not a demo's to write into."""
    demo = [username for username, _, _ in DEMO_USERS]
    return list(db.session.scalars(select(User.username).where(User.username.not_in(demo)).limit(5)))


def ensure_demo_users() -> dict[str, tuple[str, str]]:
    """The demo's users; returns username -> (role, password) for the ones created now."""
    created = {}
    for username, display, role in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.username == username)) is None:
            password = "demo-" + secrets.token_urlsafe(12)
            accounts.create_user(username, password, role, display_name=display)
            created[username] = (role, password)
    return created


def configure_demo_rules() -> None:
    """Two bureaus that want paper materials (so the mailing queue has work), one of which also
    requires information identical to the original filing (so that rule shows as errors)."""
    with write_transaction():
        for province, address in DEMO_MAILING.items():
            if db.session.get(ProvinceRuleRow, province) is None:
                db.session.add(ProvinceRuleRow(province=province, mailing_required=True, mailing_items=[],
                                               mailing_address=address, updated_at=utcnow(),
                                               # 北京 also wants information identical to the filing
                                               consistency_required=province == "北京"))


def seed(count: int, *, random_seed: int | None = None, progress: Callable[[int], None] | None = None,
         now: datetime | None = None) -> dict[str, int]:
    """Create ``count`` demo orders; returns how many ended in each state."""
    rng = random.Random(random_seed)
    now = now or utcnow()
    ensure_demo_users()
    configure_demo_rules()
    staff = db.session.scalars(select(User).where(User.role == "specialist").order_by(User.id)).all()
    boss = db.session.scalar(select(User).where(User.role == "supervisor").order_by(User.id))
    portal = Actor.portal("demo-portal")
    start = (db.session.scalar(select(func.count(Order.id))) or 0) + 1
    tally: dict[str, int] = {}
    for i in range(count):
        target = rng.choices([m[0] for m in MIX], weights=[m[1] for m in MIX])[0]
        open_stage = target == State.INITIAL_REVIEW
        age_hours = rng.uniform(0.2, 60) if open_stage else rng.uniform(30, 24 * 40)
        submitted = now - timedelta(hours=age_hours)
        flaws = set(rng.sample(FLAWS, k=rng.choice([0, 0, 0, 1, 1, 2])))
        if target in (State.APPROVED, State.BUREAU_REVIEW, State.SMS_VERIFICATION, State.BUREAU_REJECTED):
            flaws.discard("mobile")
        no = f"JR{submitted.astimezone(SHANGHAI):%Y%m%d}{start + i:05d}"
        body = make_body(rng, no, submitted, flaws=flaws)
        if "registered" in flaws or rng.random() < CONTINUING:
            # the subject filed another website with us before the console: the order should be
            # 继续接入 (the "registered" flaw leaves it as 新增接入, which 初审 flags)
            _register_earlier_filing(body, rng, submitted)
            body["kind"] = "new_access" if "registered" in flaws else "continue_access"
        order, _ = order_service.submit(body, portal, now=submitted)
        worker = Actor.for_user(rng.choice(staff)) if staff else Actor.for_user(boss)
        _walk(order, target, rng, submitted, now, worker, Actor.for_user(boss), portal)
        final = order_service.get_order(no).state
        tally[final] = tally.get(final, 0) + 1
        if progress:
            progress(1)
    return tally


def _register_earlier_filing(body: dict, rng: random.Random, at: datetime) -> None:
    """A filing of the body's subject in the registry of filings made before the console."""
    subject, filing = body["subject"], body["subject"]["filing_number"]
    with write_transaction():
        if db.session.scalar(select(Filing.id).where(Filing.website_filing_number == f"{filing}-2")) is None:
            db.session.add(Filing(website_filing_number=f"{filing}-2", subject_filing_number=filing,
                                  subject_name=subject["name"], certificate_number=subject["certificate_number"],
                                  website_name=subject["name"][2:6] + rng.choice(SITES),
                                  domains=[f"www.{body['website']['domains'][0]}"], status="active",
                                  updated_at=at - timedelta(days=rng.randrange(200, 2000))))


def _mail_rounds(no: str, target: State, rng: random.Random, boss: Actor, later) -> None:
    """Parcels recorded, received and checked; a share of first rounds fail one item."""
    def version() -> int:
        return order_service.get_order(no).version

    if target == State.AWAITING_MAIL and rng.random() < 0.5:
        return  # still waiting for the parcel
    number = "SF" + "".join(rng.choice(string.digits) for _ in range(13))
    postreview.record_shipment(no, "sf", number, boss, expected_version=version(), now=later(20, 72))
    if target == State.AWAITING_MAIL:
        return
    received = later(20, 48)
    postreview.receive_mail(no, to_local(received).date(), boss, expected_version=version(), now=received)
    if target == State.MAIL_CHECK:
        return
    items = order_service.load_rules().provinces[order_service.get_order(no).province].mailing_items
    results = {item: ("ok", "") for item in items}
    if rng.random() < 0.3:
        results[items[0]] = ("defective", "未加盖公章")
        postreview.check_mail(no, results, boss, expected_version=version(), now=later(1, 8))
        number = "SF" + "".join(rng.choice(string.digits) for _ in range(13))
        postreview.record_shipment(no, "sf", number, boss, expected_version=version(), now=later(20, 72))
        received = later(20, 48)
        postreview.receive_mail(no, to_local(received).date(), boss, expected_version=version(), now=received)
        results = {item: ("ok", "") for item in items}
    postreview.check_mail(no, results, boss, expected_version=version(), now=later(1, 8))


def _walk(order: Order, target: State, rng: random.Random, t: datetime, now: datetime,
          worker: Actor, boss: Actor, portal: Actor) -> None:
    """Move a fresh order to ``target`` along a plausible path, with the clock running forward."""
    def later(low: float, high: float) -> datetime:
        nonlocal t
        t = min(t + timedelta(hours=rng.uniform(low, high)), now - timedelta(minutes=1))
        return t

    no = order.order_no

    def act(action: Action, actor: Actor = boss, **kw) -> None:
        current = order_service.get_order(no)
        order_service.decide(no, action, actor, expected_version=current.version, now=later(0.5, 20), **kw)

    try:
        if target in (State.INITIAL_REVIEW, State.RETURNED, State.ABANDONED, State.REVOKED):
            _walk_before_approval(no, target, rng, worker, portal, later, act)
        else:
            _walk_after_approval(no, target, rng, boss, portal, later, act)
    except ServiceError as exc:
        # A generated order whose path the rules refuse: keep it where it stopped, and say so.
        log.warning("demo order %s stopped before %s: %s", no, target.value, exc.message)


def _walk_before_approval(no: str, target: State, rng: random.Random, worker: Actor, portal: Actor, later,
                          act) -> None:
    """Orders that stay in 初审, are returned, or are given up by the applicant."""
    if target == State.INITIAL_REVIEW:
        if rng.random() < 0.45:
            order_service.claim(no, worker, now=later(0.1, 2))
        return
    terminate = Action.ABANDON if target == State.ABANDONED else Action.REVOKE
    if target != State.RETURNED and rng.random() < 0.5:
        order_service.terminate(no, terminate, portal, now=later(1, 30))
        return
    act(Action.REJECT, reasons=["info_mismatch"], note="网站名称与原备案不一致，请按原备案信息修改后重新提交")
    if target != State.RETURNED:
        order_service.terminate(no, terminate, portal, now=later(2, 48))


def _walk_after_approval(no: str, target: State, rng: random.Random, boss: Actor, portal: Actor, later,
                         act) -> None:
    """初审 passed; then mailing, SMS and the bureau, as far as ``target``."""
    wants_mail = target in (State.AWAITING_MAIL, State.MAIL_CHECK) or rng.random() < 0.1
    act(Action.APPROVE, mailing_required=True if wants_mail else None)
    state = order_service.get_order(no).state
    if state == State.AWAITING_MAIL:
        _mail_rounds(no, target, rng, boss, later)
        state = order_service.get_order(no).state
        if state in (State.AWAITING_MAIL, State.MAIL_CHECK):
            return
    if state == State.SMS_VERIFICATION:
        if target == State.SMS_VERIFICATION:
            return
        at = later(0.2, 5)
        order_service.sms_verified(no, at, portal, now=at)
    if target == State.BUREAU_REVIEW:
        return
    current = order_service.get_order(no)
    if target == State.APPROVED:
        postreview.bureau_approve(no, current.website_filing_number, boss, expected_version=current.version,
                                  now=later(24, 24 * 15))
    else:
        postreview.bureau_reject(no, "管局驳回：主办单位证件住所与证件不一致", boss,
                                 expected_version=current.version, now=later(24, 24 * 15))
