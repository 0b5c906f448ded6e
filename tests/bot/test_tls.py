"""Every vendor connection of a process shares one TLS context, and still verifies the peer.

The twins serve over TLS on loopback with a certificate made for the test (openssl, for
127.0.0.1), trusted through ``SSL_CERT_FILE`` as an operator would add a CA. Two calls' ElevenLabs
streams (``wss://``) and two Telnyx clients (``https://``) make one context between them; with
the certificate not trusted, the connection is refused: verification is on.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pipecat.frames.frames import TTSAudioRawFrame, TTSSpeakFrame
from pipecat.tests.utils import SleepFrame, run_test
from pydantic import SecretStr

from bot.services import build_tts
from bot.settings import Settings
from bot.telnyx_client import TelnyxCallControl, TelnyxError
from bot.tls import shared_tls_context
from tests.twins.elevenlabs_ws import ElevenLabsTwin
from tests.twins.loopback import loopback_tls
from tests.twins.telnyx_rest import TelnyxRestTwin


@pytest.fixture
def trusted_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server context for 127.0.0.1 whose certificate the process's TLS context trusts."""
    cert, server = loopback_tls(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    shared_tls_context.cache_clear()  # made again, now trusting the test's certificate
    yield server
    shared_tls_context.cache_clear()


@pytest.fixture
def contexts_made(monkeypatch: pytest.MonkeyPatch) -> list[ssl.SSLContext]:
    """Every client TLS context made from here on (what websockets, asyncio and httpx call when
    they are given none)."""
    made: list[ssl.SSLContext] = []
    original = ssl.create_default_context

    def counting(*args, **kwargs) -> ssl.SSLContext:
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    return made


def _settings(tmp_path: Path, **values) -> Settings:
    return Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", cache_dir=tmp_path / "cache",
                    openai_api_key=None, openai_base_url=None, dialer_enabled=False, **values)


async def test_two_calls_elevenlabs_streams_over_wss_share_one_tls_context(trusted_tls, contexts_made, tmp_path: Path) -> None:
    twin = ElevenLabsTwin()
    twin.ssl_context = trusted_tls
    async with twin:
        settings = _settings(tmp_path, elevenlabs_api_key=SecretStr("el-test"), elevenlabs_ws_url=twin.ws_url)
        assert twin.ws_url.startswith("wss://")
        for _ in range(2):
            down, _up = await run_test(
                build_tts(settings, voice_type="female_professional"),
                frames_to_send=[TTSSpeakFrame("Hola, ¿qué tal?"), SleepFrame(0.5)],
            )
            assert any(isinstance(f, TTSAudioRawFrame) for f in down)
    assert len(twin.connections) == 2
    assert contexts_made == [shared_tls_context()]  # one context for both streams


async def test_telnyx_clients_over_https_share_one_tls_context(trusted_tls, contexts_made, tmp_path: Path) -> None:
    twin = TelnyxRestTwin()
    twin.ssl_context = trusted_tls
    async with twin:
        settings = _settings(tmp_path, telephony="telnyx", telnyx_api_key=SecretStr("KEY-test"),
                             telnyx_base_url=f"https://127.0.0.1:{twin.port}/v2", telnyx_max_retries=0)
        for n in range(2):
            control = TelnyxCallControl(settings)
            try:
                await control.hangup(f"v3:call-{n}")
            finally:
                await control.aclose()
    assert [a.call_control_id for a in twin.of("hangup")] == ["v3:call-0", "v3:call-1"]
    assert contexts_made == [shared_tls_context()]  # one context for both clients


async def test_an_untrusted_certificate_is_refused(trusted_tls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    shared_tls_context.cache_clear()  # the system's CAs only: the test's certificate is unknown
    twin = TelnyxRestTwin()
    twin.ssl_context = trusted_tls
    async with twin:
        settings = _settings(tmp_path, telephony="telnyx", telnyx_api_key=SecretStr("KEY-test"),
                             telnyx_base_url=f"https://127.0.0.1:{twin.port}/v2", telnyx_max_retries=0)
        control = TelnyxCallControl(settings)
        try:
            with pytest.raises(TelnyxError):
                await control.hangup("v3:call-x")
        finally:
            await control.aclose()
    assert twin.actions == []
