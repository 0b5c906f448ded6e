"""The carrier twin's webhook signing key, and which keys our webhook route trusts.

Telnyx signs every webhook with ed25519 over ``"{timestamp}|{raw body}"``; the twin does the same with
its own key (``CARRIER_TWIN_PRIVATE_KEY``, base64 of a 32-byte seed; generated for the process when
unset). The route trusts Telnyx's public key when configured, and the twin's while the twin is in use.
"""

from __future__ import annotations

import base64
import time

from nacl.signing import SigningKey
from pydantic import SecretStr

from bot.settings import Settings


def twin_signing_key(settings: Settings) -> SigningKey:
    """The twin's private key; generated (and kept on these settings) when none is configured."""
    if settings.carrier_twin_private_key is None:
        seed = bytes(SigningKey.generate())
        settings.carrier_twin_private_key = SecretStr(base64.b64encode(seed).decode("ascii"))
    return SigningKey(base64.b64decode(settings.carrier_twin_private_key.get_secret_value()))


def twin_public_key(settings: Settings) -> str:
    """Base64 of the twin's 32-byte ed25519 public key (the format Telnyx's portal shows)."""
    return base64.b64encode(bytes(twin_signing_key(settings).verify_key)).decode("ascii")


def trusted_webhook_keys(settings: Settings) -> list[str]:
    """Public keys whose signatures our webhook route accepts."""
    keys = [settings.telnyx_public_key] if settings.telnyx_public_key else []
    if settings.uses_carrier_twin:
        keys.append(twin_public_key(settings))
    return keys


def sign_webhook(key: SigningKey, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The ``telnyx-signature-ed25519`` and ``telnyx-timestamp`` headers for a body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(stamp.encode() + b"|" + body).signature
    return {"telnyx-signature-ed25519": base64.b64encode(signature).decode("ascii"), "telnyx-timestamp": stamp}
