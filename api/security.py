"""API keys: generated once, shown once, stored as a SHA-256 digest.

Keys carry 256 bits of randomness, so a fast hash is enough (no password-stretching needed), and
lookups stay a single indexed equality on `api_keys.key_hash`.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "cc_"


def generate_api_key() -> tuple[str, str, str]:
    """A new key: (the key to show once, its display prefix, its digest to store)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:10], hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
