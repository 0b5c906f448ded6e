"""User-turn start strategy: barge in at once, but not on "ajá", "sí", "mhm" or "vale".

When the bot is silent, the prospect's turn starts the moment VAD hears speech (as Pipecat's
`VADUserTurnStartStrategy`). While the bot is talking, a short sound might be a backchannel that
must not cut the bot off, so the turn starts only when either
* the prospect has been speaking for ``min_barge_in_secs`` (longer than any backchannel), or
* the transcript of a shorter utterance is not a backchannel
  (`processors.intents.is_backchannel`); a backchannel resets the aggregation instead.
The interruption (and so Telnyx's ``clear``) follows the turn start immediately.
"""

from __future__ import annotations

import time

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    TranscriptionFrame,
    UserSpeakingFrame,
    VADUserStartedSpeakingFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.turns.types import ProcessFrameResult
from pipecat.turns.user_start.base_user_turn_start_strategy import BaseUserTurnStartStrategy

from processors.intents import is_backchannel


class BackchannelAwareUserTurnStartStrategy(BaseUserTurnStartStrategy):
    """Starts the user turn on VAD, except for backchannels said over the bot."""

    def __init__(self, *, min_barge_in_secs: float = 0.6, **kwargs) -> None:
        super().__init__(**kwargs)
        self._min_barge_in_secs = min_barge_in_secs
        self._bot_speaking = False
        self._speech_started_at: float | None = None
        self._waiting_for_transcript = False

    async def handle_user_turn_started(self) -> None:
        self._speech_started_at = None
        self._waiting_for_transcript = False

    async def process_frame(self, frame: Frame) -> ProcessFrameResult:
        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
        elif isinstance(frame, VADUserStartedSpeakingFrame):
            if not self._bot_speaking:
                await self.trigger_user_turn_started()
                return ProcessFrameResult.STOP
            # VAD already heard `start_secs` of speech before it reported the start.
            self._speech_started_at = time.monotonic() - frame.start_secs
            self._waiting_for_transcript = False
        elif isinstance(frame, UserSpeakingFrame) and self._speech_started_at is not None:
            if time.monotonic() - self._speech_started_at >= self._min_barge_in_secs:
                await self.trigger_user_turn_started()
                return ProcessFrameResult.STOP
        elif isinstance(frame, VADUserStoppedSpeakingFrame) and self._speech_started_at is not None:
            # A short utterance over the bot: its transcript decides.
            self._speech_started_at = None
            self._waiting_for_transcript = True
        elif isinstance(frame, TranscriptionFrame) and frame.text.strip():
            if self._bot_speaking and is_backchannel(frame.text):
                self._waiting_for_transcript = False
                await self.trigger_reset_aggregation()
                return ProcessFrameResult.CONTINUE
            # Not a backchannel (or the bot is silent and VAD missed the start): the turn starts.
            self._waiting_for_transcript = False
            await self.trigger_user_turn_started()
            return ProcessFrameResult.STOP
        return ProcessFrameResult.CONTINUE
