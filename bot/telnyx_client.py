"""Telnyx Call Control through the official async client, with vendor errors made typed.

`TelnyxCallControl` is the one HTTP client of the product for Telnyx. Without ``TELNYX_API_KEY``
(``settings.uses_carrier_twin``) it talks to the in-product carrier twin, which speaks the same
REST shapes; with a key it talks to ``settings.telnyx_base_url``. Either way the request leaves
through ``telnyx.AsyncTelnyx`` so what we send is what the real SDK sends.

The SDK already retries 408/409/429/5xx and connection errors with exponential backoff (and
honours ``Retry-After``); ``settings.telnyx_max_retries`` bounds that. What is left after the
retries is translated here into a few errors of our own so the dialer can decide: requeue
(`TelnyxRateLimited`, `TelnyxUnavailable`), pause the campaign (`TelnyxAuthError`), fail the
prospect (`TelnyxInvalidNumber`) or ignore (`TelnyxCallGone`).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import telnyx
from loguru import logger

from bot.settings import Settings
from bot.tls import shared_tls_context

T = TypeVar("T")

#: Telnyx Call Control error code for "Call has already ended" (sent with HTTP 422).
CALL_ENDED_CODE = "90018"


class TelnyxError(Exception):
    """A Telnyx request that did not succeed; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class TelnyxRateLimited(TelnyxError):
    """429 after the client's retries: try again later, nothing is wrong with the call."""


class TelnyxUnavailable(TelnyxError):
    """5xx, timeout or connection failure after the client's retries."""


class TelnyxAuthError(TelnyxError):
    """401/403: the API key is wrong, revoked or lacks permission (or is missing)."""


class TelnyxInvalidNumber(TelnyxError):
    """422 on a number: Telnyx will never place this call as it is."""


class TelnyxCallGone(TelnyxError):
    """The call has already ended (code 90018 or 404 on an action)."""


def encode_client_state(call_log_id: uuid.UUID) -> str:
    """The Base64 ``client_state`` naming a call log, echoed by every webhook and the media start."""
    raw = json.dumps({"call_log_id": str(call_log_id)}, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode("ascii")


def decode_client_state(value: str | None) -> uuid.UUID | None:
    """The call log id in a ``client_state``, or None when absent or not ours."""
    if not value:
        return None
    try:
        data = json.loads(base64.b64decode(value, validate=True))
        return uuid.UUID(str(data["call_log_id"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        return None


def _error_details(exc: telnyx.APIStatusError) -> tuple[str, str | None, str | None]:
    """(sentence, code, pointer) from a Telnyx error body ``{"errors": [{code,title,detail,source}]}``."""
    body = exc.body
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = str(first.get("code")) if first.get("code") is not None else None
        title = first.get("title") or ""
        detail = first.get("detail") or ""
        source = first.get("source") if isinstance(first.get("source"), dict) else {}
        sentence = f"{title}: {detail}" if title and detail and detail != title else (title or detail)
        return sentence or f"HTTP {exc.status_code}", code, source.get("pointer")
    return f"HTTP {exc.status_code}", None, None


def translate_error(exc: telnyx.APIError, *, action: str) -> TelnyxError:
    """Map an SDK exception onto our typed errors (the one place that knows Telnyx's statuses)."""
    if isinstance(exc, telnyx.APIConnectionError):  # includes APITimeoutError
        return TelnyxUnavailable(f"Telnyx {action}: could not reach Telnyx ({type(exc).__name__}).")
    if not isinstance(exc, telnyx.APIStatusError):
        return TelnyxError(f"Telnyx {action}: {exc}")
    sentence, code, pointer = _error_details(exc)
    status = exc.status_code
    message = f"Telnyx {action} refused ({status}{', code ' + code if code else ''}): {sentence}"
    if status in (401, 403):
        return TelnyxAuthError(message, status=status, code=code)
    if status == 429:
        return TelnyxRateLimited(message, status=status, code=code)
    if status >= 500 or status == 408:
        return TelnyxUnavailable(message, status=status, code=code)
    if code == CALL_ENDED_CODE or (status == 404 and action != "dial"):
        return TelnyxCallGone(message, status=status, code=code)
    if status == 422 and action in ("dial", "transfer") and (pointer in (None, "/to", "/from") or code == "10016"):
        return TelnyxInvalidNumber(message, status=status, code=code)
    return TelnyxError(message, status=status, code=code)


class TelnyxCallControl:
    """Dial, hang up, transfer and play audio through Telnyx Call Control v2.

    Raises `TelnyxAuthError` at construction when real telephony is selected but no API key is set
    (the seed's "TELNYX_API_KEY not found").
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.uses_carrier_twin:
            # The twin accepts any bearer token; a fixed one keeps the SDK's auth header shape.
            api_key = "carrier-twin"
            base_url = settings.carrier_twin_base_url
        else:
            if settings.telnyx_api_key is None:
                raise TelnyxAuthError(
                    "TELNYX_API_KEY not found: set it (export TELNYX_API_KEY=...) or select the "
                    "local carrier twin with TELEPHONY=twin."
                )
            api_key = settings.telnyx_api_key.get_secret_value()
            base_url = settings.telnyx_base_url
        self.base_url = base_url
        self._client = telnyx.AsyncTelnyx(
            api_key=api_key,
            public_key=settings.telnyx_public_key,
            base_url=base_url,
            max_retries=settings.telnyx_max_retries,
            timeout=settings.telnyx_timeout_secs,
            # The SDK's own client, on the process's TLS context instead of a new one per client.
            http_client=telnyx.DefaultAsyncHttpxClient(verify=shared_tls_context()),
        )

    async def _call(self, action: str, request: Callable[[], Awaitable[T]]) -> T:
        try:
            return await request()
        except telnyx.APIError as exc:
            error = translate_error(exc, action=action)
            logger.warning("telnyx {} failed: {}", action, type(error).__name__)
            raise error from exc

    async def dial(
        self,
        *,
        to: str,
        from_: str,
        client_state: str,
        command_id: str,
        codec: str = "PCMU",
        timeout_secs: int = 25,
        time_limit_secs: int | None = None,
        stream_auth_token: str | None = None,
    ) -> str:
        """Place an outbound call that streams to our media WebSocket; returns its call_control_id.

        ``stream_auth_token`` (`bot.media_auth`) comes back on the media WebSocket, which checks it.
        """
        if not self.settings.telnyx_connection_id and not self.settings.uses_carrier_twin:
            raise TelnyxError("TELNYX_CONNECTION_ID is not set: it names the Call Control application to dial with.")
        response = await self._call(
            "dial",
            lambda: self._client.calls.dial(
                connection_id=self.settings.telnyx_connection_id or "carrier-twin",
                to=to,
                from_=from_,
                webhook_url=self.settings.webhook_url,
                stream_url=self.settings.stream_url,
                stream_track="inbound_track",
                stream_codec=codec,
                stream_bidirectional_mode="rtp",
                stream_bidirectional_codec=codec,
                answering_machine_detection="premium",
                client_state=client_state,
                command_id=command_id,
                timeout_secs=timeout_secs,
                time_limit_secs=time_limit_secs or self.settings.call_time_limit_secs,
                **({"stream_auth_token": stream_auth_token} if stream_auth_token else {}),
            ),
        )
        call_control_id = response.data.call_control_id if response.data else None
        if not call_control_id:
            raise TelnyxUnavailable("Telnyx dial answered without a call_control_id.")
        return call_control_id

    async def hangup(self, call_control_id: str, *, command_id: str | None = None) -> None:
        """Hang up; a call that has already ended is not an error."""
        try:
            await self._call(
                "hangup",
                lambda: self._client.calls.actions.hangup(
                    call_control_id, **({"command_id": command_id} if command_id else {})
                ),
            )
        except TelnyxCallGone:
            logger.debug("hangup of a call that already ended")

    async def transfer(self, call_control_id: str, *, to: str, from_: str | None = None) -> None:
        """Hot-transfer the call to a human (``from_`` defaults to the original call's ``to``)."""
        kwargs: dict[str, str] = {"from_": from_} if from_ else {}
        await self._call(
            "transfer", lambda: self._client.calls.actions.transfer(call_control_id, to=to, **kwargs)
        )

    async def start_playback(self, call_control_id: str, *, audio_url: str) -> None:
        """Play an audio file (by URL) on the call, e.g. the voicemail drop."""
        await self._call(
            "playback_start",
            lambda: self._client.calls.actions.start_playback(call_control_id, audio_url=audio_url),
        )

    async def aclose(self) -> None:
        """Close the underlying HTTP connection pool."""
        await self._client.close()
