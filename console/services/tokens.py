"""API tokens for the applicant portal: shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from console.database import write_transaction
from console.domain.calendar import utcnow
from console.extensions import db
from console.models import ApiToken
from console.services.audit import audit
from console.services.errors import Invalid

TOKEN_PREFIX = "icp_"  # noqa: S105 (a public prefix that makes leaked tokens recognisable)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str, *, actor_id: int | None = None) -> tuple[ApiToken, str]:
    """A new token; the plain value is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("令牌名称必填，最长 100 个字符", fields={"name": ["必填，最长 100 个字符"]})
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        token = ApiToken(name=name, token_hash=_hash(plain), created_at=utcnow())
        db.session.add(token)
        db.session.flush()
        audit("token.create", actor_id=actor_id, target=f"token:{token.id}", detail={"name": name})
    return token, plain


def authenticate(plain: str) -> ApiToken | None:
    """The live token with this value, or None. Constant-time by construction (hash lookup)."""
    if not plain or not plain.startswith(TOKEN_PREFIX):
        return None
    return db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _hash(plain), ApiToken.revoked_at.is_(None))
    )


def revoke_token(token_id: int, *, actor_id: int | None = None) -> None:
    with write_transaction():
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=utcnow()))
        audit("token.revoke", actor_id=actor_id, target=f"token:{token_id}")
