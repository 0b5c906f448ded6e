"""The admin UI's browser session: a signed cookie, the signed-in API key, and a CSRF token.

The cookie holds no secret of the tenant: only the id of the API key used to sign in and a random
CSRF token, signed with itsdangerous (``SESSION_SECRET``, or a random secret per application when
unset — sessions then end when the process restarts, and several processes need the setting). Each
request re-checks the key in the database, so revoking a key ends its browser sessions at once.

CSRF protection is a session-bound token: every form carries it and every POST is refused with 403
unless the token matches the one in the signed cookie. The cookie is httpOnly and SameSite=Lax, so
other sites can neither read it nor send it with their cross-site POSTs.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.security import hash_api_key
from db.models import ApiKey, Profile

COOKIE_NAME = "coldcall_admin"
#: A signed-in session lasts a working day; then the person signs in again.
SESSION_MAX_AGE_SECS = 12 * 3600
_SALT = "coldcall.admin.session.v1"


@dataclass(frozen=True)
class AdminSession:
    """What the cookie says: the CSRF token and, once signed in, the API key's id."""

    csrf_token: str
    api_key_id: uuid.UUID | None = None

    @classmethod
    def fresh(cls, api_key_id: uuid.UUID | None = None) -> AdminSession:
        """A new session with a new CSRF token (rotated at sign-in and sign-out)."""
        return cls(csrf_token=secrets.token_urlsafe(32), api_key_id=api_key_id)

    def csrf_matches(self, submitted: str | None) -> bool:
        """Constant-time check of a form's CSRF token."""
        return bool(submitted) and hmac.compare_digest(self.csrf_token, submitted or "")


def _serializer(request: Request) -> URLSafeTimedSerializer:
    settings = request.app.state.settings
    if settings.session_secret is not None:
        secret = settings.session_secret.get_secret_value()
    else:
        # No configured secret: one random secret per application object, kept on its state.
        secret = getattr(request.app.state, "admin_session_secret", None)
        if secret is None:
            secret = secrets.token_urlsafe(48)
            request.app.state.admin_session_secret = secret
    return URLSafeTimedSerializer(secret, salt=_SALT)


def read_session(request: Request) -> AdminSession | None:
    """The session of this request, or None when the cookie is missing, forged or expired."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        data = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE_SECS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
        return None
    key_id: uuid.UUID | None = None
    if data.get("kid"):
        try:
            key_id = uuid.UUID(str(data["kid"]))
        except ValueError:
            return None
    return AdminSession(csrf_token=data["csrf"], api_key_id=key_id)


def write_session(request: Request, response: Response, session: AdminSession) -> None:
    """Set the signed session cookie on a response."""
    payload = {"csrf": session.csrf_token, "kid": str(session.api_key_id) if session.api_key_id else None}
    response.set_cookie(
        COOKIE_NAME,
        _serializer(request).dumps(payload),
        max_age=SESSION_MAX_AGE_SECS,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


async def api_key_id_for_key(session: AsyncSession, key: str) -> uuid.UUID | None:
    """The id of the API key typed at sign-in, to bind the browser session to that key.

    Call it after `api.deps.profile_for_key` accepted the key (the one key check of the product)."""
    row = await session.execute(select(ApiKey.id).where(ApiKey.key_hash == hash_api_key(key)))
    return row.scalar_one_or_none()


async def profile_for_key_id(session: AsyncSession, api_key_id: uuid.UUID) -> Profile | None:
    """The profile a session's API key belongs to, or None once the key is revoked or gone."""
    row = await session.execute(
        select(Profile)
        .join(ApiKey, ApiKey.user_id == Profile.id)
        .where(ApiKey.id == api_key_id, ApiKey.revoked_at.is_(None))
    )
    return row.scalar_one_or_none()
