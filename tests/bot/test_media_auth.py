"""The per-call media stream token: derived from the call log id and a key every process shares."""

from __future__ import annotations

import base64
import uuid

import pytest
from pydantic import SecretStr

from bot.media_auth import media_stream_token, verify_media_stream_token
from bot.settings import Settings


def _settings(**values) -> Settings:
    values = {"database_url": "sqlite+aiosqlite:///tmp/one.db", "session_secret": None, "media_stream_secret": None, **values}
    return Settings(_env_file=None, **values)


def test_token_is_url_safe_base64_of_a_sha256_hmac() -> None:
    token = media_stream_token(_settings(), uuid.uuid4())
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert len(token) <= 4000  # Telnyx's limit on stream_auth_token


def test_same_settings_same_token_in_every_process_and_one_per_call() -> None:
    call, other = uuid.uuid4(), uuid.uuid4()
    # Two Settings objects stand for the dialer and a server worker reading the same config.
    assert media_stream_token(_settings(), call) == media_stream_token(_settings(), call)
    assert media_stream_token(_settings(), call) != media_stream_token(_settings(), other)


@pytest.mark.parametrize(
    "a, b",
    [
        ({"media_stream_secret": SecretStr("k" * 32)}, {"media_stream_secret": SecretStr("j" * 32)}),
        ({"session_secret": SecretStr("s" * 32)}, {"session_secret": SecretStr("t" * 32)}),
        ({"database_url": "sqlite+aiosqlite:///tmp/one.db"}, {"database_url": "sqlite+aiosqlite:///tmp/two.db"}),
        ({"media_stream_secret": SecretStr("k" * 32)}, {}),
        ({"session_secret": SecretStr("s" * 32)}, {}),
    ],
    ids=["media-secret", "session-secret", "database-url", "media-secret-vs-fallback", "session-vs-url"],
)
def test_the_key_follows_the_settings(a: dict, b: dict) -> None:
    call = uuid.uuid4()
    assert media_stream_token(_settings(**a), call) != media_stream_token(_settings(**b), call)


def test_the_session_secret_is_not_used_as_the_key_itself() -> None:
    call = uuid.uuid4()
    shared = SecretStr("s" * 32)
    assert media_stream_token(_settings(session_secret=shared), call) != media_stream_token(
        _settings(media_stream_secret=shared), call
    )


def test_verify() -> None:
    settings, call = _settings(), uuid.uuid4()
    token = media_stream_token(settings, call)
    assert verify_media_stream_token(settings, call, token)
    assert not verify_media_stream_token(settings, uuid.uuid4(), token)
    assert not verify_media_stream_token(settings, call, media_stream_token(settings, uuid.uuid4()))
    for bad in (None, "", token[:-1], token + "x", "ñ" * len(token)):
        assert not verify_media_stream_token(settings, call, bad)


def test_a_placeholder_media_stream_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="MEDIA_STREAM_SECRET"):
        _settings(media_stream_secret="changeme")
