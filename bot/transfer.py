"""Hot transfer to a human seller through Telnyx Call Control (the seed's `HotTransferManager`)."""

from __future__ import annotations

from loguru import logger
from pydantic import SecretStr

from bot.settings import Settings, get_settings
from bot.telnyx_client import TelnyxCallControl, TelnyxError


class HotTransferManager:
    """Moves a live call to a seller's number with Telnyx's transfer action.

    ``HotTransferManager(telnyx_api_key=...)`` as in the seed; with `settings` (the product's way)
    the key, base URL and carrier twin selection come from there. A key given explicitly
    overrides the one in settings.
    """

    def __init__(self, telnyx_api_key: str | None = None, *, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        if telnyx_api_key:
            settings = settings.model_copy(update={"telnyx_api_key": SecretStr(telnyx_api_key)})
        self._control = TelnyxCallControl(settings)

    async def transfer_call(self, call_control_id: str, to_number: str, reason: str) -> bool:
        """Transfer the call to `to_number`; True on success, False if Telnyx refused or failed.

        The reason is what the call log records; it is logged without the number.
        """
        if not to_number:
            logger.warning("Hot transfer skipped: the campaign has no transfer number (reason {})", reason)
            return False
        try:
            await self._control.transfer(call_control_id, to=to_number)
        except TelnyxError as exc:
            logger.warning("Hot transfer failed ({}, reason {})", type(exc).__name__, reason)
            return False
        logger.info("Hot transfer requested (reason {})", reason)
        return True

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._control.aclose()
