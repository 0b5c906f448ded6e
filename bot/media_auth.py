"""The per-call token that authenticates Telnyx's media stream (``stream_auth_token``).

The dialer sends ``stream_auth_token`` with the dial; Telnyx gives it back on the media WebSocket
as the ``x-telnyx-streaming-auth-token`` upgrade header, and again in the ``connected`` message
(docs/external-protocols.md §3). The token is derived, not stored: an HMAC-SHA256 of the call log
id, so whichever process takes the stream can check it with nothing but the settings.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from bot.settings import Settings

#: The upgrade header (and the ``connected`` message field) Telnyx carries the token in.
MEDIA_STREAM_TOKEN_HEADER = "x-telnyx-streaming-auth-token"

_LABEL = b"coldcall/media-stream-token/v1"


def _key(settings: Settings) -> bytes:
    if settings.media_stream_secret is not None:
        return settings.media_stream_secret.get_secret_value().encode()
    # Without a secret of its own, the key must still be the same in every process: the dialer
    # (maybe `coldcall dialer` on another machine) mints the token that any server worker checks,
    # so a random per-process key would refuse every stream. SESSION_SECRET is shared for the same
    # reason; else the database URL, which every process of one deployment has in common (and which
    # holds the database password on PostgreSQL). The label keeps this key apart from other uses.
    if settings.session_secret is not None:
        base = b"session_secret:" + settings.session_secret.get_secret_value().encode()
    else:
        base = b"database_url:" + settings.database_url.encode()
    return hmac.new(base, _LABEL, hashlib.sha256).digest()


def media_stream_token(settings: Settings, call_log_id: uuid.UUID) -> str:
    """The ``stream_auth_token`` of one call: URL-safe base64 of HMAC-SHA256(key, call log id)."""
    digest = hmac.new(_key(settings), str(call_log_id).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_media_stream_token(settings: Settings, call_log_id: uuid.UUID, token: str | None) -> bool:
    """True when `token` is the call's token (constant-time comparison)."""
    if not token:
        return False
    expected = media_stream_token(settings, call_log_id)
    return hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace"))
