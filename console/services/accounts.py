"""Users: sign-in with throttling, creation, roles, deactivation, ending sessions."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from console.database import write_transaction
from console.domain.calendar import utcnow
from console.domain.emails import email_problem, normalised_email
from console.domain.passwords import password_problem
from console.domain.roles import AFTER_DECISION, is_role, username_problem
from console.extensions import db
from console.models import ApiToken, AuditEntry, LoginAttempt, User
from console.services.audit import audit
from console.services.errors import Conflict, Invalid, NotFound, ServiceError
from console.services.people import forget_staff

#: Failed sign-ins are counted over this window, per (account, address) and per address. There is
#: deliberately no limit per account alone: that would let anyone lock anyone out (admins too).
#: What protects an account against guessing from many addresses is the password policy (12+
#: characters, not a common one), the delays below on every address that guesses, and the audit.
WINDOW = timedelta(minutes=15)
LIMIT_ACCOUNT_ADDRESS = 5
LIMIT_ADDRESS = 20
#: Past a limit, each further failure doubles the wait before the next try: 5 s, 10 s, 20 s … 15 min.
FIRST_DELAY = timedelta(seconds=5)
MAX_DELAY = WINDOW
#: scrypt hash of a random password: checked for unknown users so that timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-real-password-8c1f0e")


class Throttled(ServiceError):
    status = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        wait = f"{retry_after} 秒" if retry_after < 120 else f"{minutes} 分钟"
        super().__init__(f"登录失败次数过多，请 {wait}后再试", retry_after=retry_after)
        self.retry_after = retry_after


class BadCredentials(ServiceError):
    status = 200  # the login form is re-rendered with one message for every failure
    code = "bad_credentials"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def sign_in(username: str, password: str, address: str) -> User:
    """The user, if the password is right and the throttle allows; records every attempt."""
    username = (username or "").strip()[:64]
    address = (address or "")[:64]
    now = utcnow()
    _check_throttle(username, address, now)
    user = db.session.scalar(select(User).where(User.username == username))
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    with write_transaction():
        if user is None or not ok or not user.active:
            db.session.add(LoginAttempt(at=now, username=username, address=address))
            audit("login.failed", target=f"user:{username}", address=address,
                  detail={"reason": "inactive" if user and ok else "credentials"})
            db.session.flush()
            _audit_lock(username, address, now)
            failed = True
        else:
            cleared = db.session.execute(delete(LoginAttempt).where(LoginAttempt.username == username,
                                                                    LoginAttempt.address == address)).rowcount
            if cleared >= LIMIT_ACCOUNT_ADDRESS:
                audit("login.unlocked", actor_id=user.id, target=f"user:{username}", address=address,
                      detail={"failures": cleared})
            audit("login.succeeded", actor_id=user.id, target=f"user:{username}", address=address)
            failed = False
    if failed:
        raise BadCredentials("用户名或密码错误")
    return user


def delay_after(failures: int, limit: int) -> timedelta:
    """How long the next try waits after ``failures`` failures against a ``limit``."""
    if failures < limit:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - limit, 20), MAX_DELAY)


def _failures(since, **where) -> tuple[int, object]:
    query = select(func.count(), func.max(LoginAttempt.at)).where(LoginAttempt.at >= since)
    for column, value in where.items():
        query = query.where(getattr(LoginAttempt, column) == value)
    return db.session.execute(query).one()


def _check_throttle(username: str, address: str, now) -> None:
    """Refuse (429) while the (account, address) pair or the address must still wait."""
    since = now - WINDOW
    for where, limit in (({"username": username, "address": address}, LIMIT_ACCOUNT_ADDRESS),
                         ({"address": address}, LIMIT_ADDRESS)):
        count, latest = _failures(since, **where)
        wait_until = latest + delay_after(count, limit) if latest is not None else now
        if wait_until > now:
            retry = math.ceil((wait_until - now).total_seconds())
            with write_transaction():
                audit("login.throttled", target=f"user:{username}", address=address,
                      detail={"failures": count, "retry_after": retry, "by": "address" if len(where) == 1 else "pair"})
            raise Throttled(max(retry, 1))


def _audit_lock(username: str, address: str, now) -> None:
    """The failure that starts a wait is audited as a lock (of the pair, or of the address)."""
    since = now - WINDOW
    pair, _ = _failures(since, username=username, address=address)
    by_address, _ = _failures(since, address=address)
    if pair >= LIMIT_ACCOUNT_ADDRESS or by_address >= LIMIT_ADDRESS:
        audit("login.locked", target=f"user:{username}", address=address,
              detail={"pair_failures": pair, "address_failures": by_address,
                      "wait_seconds": int(max(delay_after(pair, LIMIT_ACCOUNT_ADDRESS),
                                              delay_after(by_address, LIMIT_ADDRESS)).total_seconds())})


def sign_out(user: User, address: str = "") -> None:
    """Ends every session of the user (the session version is checked on each request)."""
    with write_transaction():
        db.session.execute(update(User).where(User.id == user.id)
                           .values(session_version=1 + User.session_version))  # sign-out everywhere, not an order
        audit("logout", actor_id=user.id, target=f"user:{user.username}", address=address)


def create_user(username: str, password: str, role: str, *, display_name: str = "", email: str = "",
                actor_id: int | None = None) -> User:
    username = (username or "").strip()
    email = (email or "").strip()
    fields: dict[str, list[str]] = {}
    if email:
        problem = email_problem(email)
        if problem:
            fields["email"] = [f"电子邮箱无效：{problem}"]
        else:
            email = normalised_email(email)
    if username_problem(username):
        fields["username"] = [username_problem(username)]
    if not is_role(role):
        fields["role"] = ["角色必须是 specialist、supervisor 或 admin"]
    problem = password_problem(password or "", username=username)
    if problem:
        fields["password"] = [problem]
    if fields:
        raise Invalid("用户信息无效", fields=fields)
    with write_transaction():
        if db.session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"用户名 {username} 已存在", fields={"username": ["已存在"]})
        user = User(username=username, display_name=(display_name or username).strip()[:64], role=role, email=email,
                    password_hash=hash_password(password), active=True, session_version=1,
                    created_at=utcnow())
        db.session.add(user)
        db.session.flush()
        audit("user.create", actor_id=actor_id, target=f"user:{username}", detail={"role": role})
    forget_staff()
    return user


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def change_role(user_id: int, role: str, *, actor_id: int) -> User:
    if not is_role(role):
        raise Invalid("角色无效", fields={"role": ["角色无效"]})
    with write_transaction():
        user = _user(user_id)
        if user.id == actor_id:
            raise Conflict("不能修改自己的角色")
        old = user.role
        user.role = role
        user.session_version += 1  # a changed role takes effect with a new sign-in
        audit("user.role", actor_id=actor_id, target=f"user:{user.username}", detail={"from": old, "to": role})
    forget_staff()
    return user


def set_active(user_id: int, active: bool, *, actor_id: int) -> User:
    with write_transaction():
        user = _user(user_id)
        if user.id == actor_id and not active:
            raise Conflict("不能停用自己的账号")
        user.active = active
        user.session_version += 1
        audit("user.activate" if active else "user.deactivate", actor_id=actor_id,
              target=f"user:{user.username}")
    forget_staff()
    return user


def reset_password(user_id: int, password: str, *, actor_id: int) -> User:
    with write_transaction():
        user = _user(user_id)
        problem = password_problem(password or "", username=user.username)
        if problem:
            raise Invalid("密码不符合要求", fields={"password": [problem]})
        user.password_hash = hash_password(password)
        user.session_version += 1
        audit("user.password_reset", actor_id=actor_id, target=f"user:{user.username}")
    return user


def set_email(user_id: int, email: str, *, actor_id: int) -> User:
    """Where a user's alert e-mail goes ('' for none)."""
    email = (email or "").strip()
    if email:
        problem = email_problem(email)
        if problem:
            raise Invalid("电子邮箱无效", fields={"email": [f"电子邮箱无效：{problem}"]})
        email = normalised_email(email)
    with write_transaction():
        user = _user(user_id)
        user.email = email
        audit("user.email", actor_id=actor_id, target=f"user:{user.username}", detail={"email": email})
    return user


def sign_out_everywhere(user_id: int, *, actor_id: int) -> User:
    with write_transaction():
        user = _user(user_id)
        user.session_version += 1
        audit("user.sign_out_everywhere", actor_id=actor_id, target=f"user:{user.username}")
    return user


def admin_overview(audit_limit: int = 30) -> dict:
    """What the admin page lists: users, API tokens, the latest security audit entries."""
    return {
        "users": list(db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.username))),
        "tokens": list(db.session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id))),
        "audit": list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(audit_limit))),
    }


def set_after_decision(user_id: int, choice: str) -> User:
    """Where this user's decisions lead (one of AFTER_DECISION); a personal choice, not audited."""
    if choice not in AFTER_DECISION:
        raise Invalid("选项无效", fields={"after_decision": ["请选择决定后打开下一单、回到队列或留在本单"]})
    with write_transaction():
        user = _user(user_id)
        user.after_decision = choice
    return user
