"""End of turn from the transcript first, smart-turn only when the words leave it open.

Smart-turn V3 is a Whisper-sized encoder over 8 s of audio: about 230 ms of CPU per VAD stop on
this machine's cores (AVX2, no VNNI; `bench/concurrency.py`), and Pipecat runs it at every
pause. With a few dozen calls per core that alone saturates the machine, and it answers a
question the transcript often answers already: "¿Y eso cuánto cuesta?" is finished, "pues
nosotros trabajamos con" is not. The LLM path waits for that transcript anyway, so reading it
first costs no latency when it settles the matter.

`text_turn_verdict(text)` -> ``True`` (finished: a question or exclamation mark, or one of the
router's intents, which are whole replies), ``False`` (unfinished: it ends on a conjunction,
preposition, article or a comma/ellipsis) or ``None`` (the words cannot tell; a period proves
nothing, since STTs put one at the end of every segment).

`TranscriptFirstTurnStopStrategy` is Pipecat's `TurnAnalyzerUserTurnStopStrategy` with that
order: at the VAD stop it waits for the segment's transcript (at most ``analysis_wait_secs``),
asks `text_turn_verdict`, and runs the turn model only on ``None`` (or when no transcript came
in time). An unfinished verdict leaves the turn to the model's silence fallback
(``SmartTurnParams.stop_secs``), exactly as an "incomplete" prediction would.
"""

from __future__ import annotations

import asyncio
import re
import time

from loguru import logger
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.frames.frames import TranscriptionFrame, VADUserStartedSpeakingFrame, VADUserStoppedSpeakingFrame
from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy

from processors.intents import classify_intent

#: Last words after which a Spanish sentence cannot end (accents matter: "si" is "if", "sí" is
#: "yes"; "como" is "as", "cómo" asks).
UNFINISHED_LAST_WORDS = frozenset(
    "y e o u ni pero que porque pues aunque sino como cuando donde si "
    "de del a al en con por para sin sobre entre hasta desde hacia segun "
    "el la los las un una unos unas lo mi mis tu tus su sus nuestro nuestra nuestros nuestras "
    "este esta estos estas ese esa esos esas muy según".split()
)
#: Trailing marks of speech that goes on.
UNFINISHED_ENDINGS = (",", "...", "…", ";", ":", "-")
FINISHED_ENDINGS = ("?", "!")
_WORD = re.compile(r"\w+")
#: How long after the VAD stop the transcript is awaited before the model decides anyway.
DEFAULT_ANALYSIS_WAIT_SECS = 0.6


def text_turn_verdict(text: str, objections: dict | None = None) -> bool | None:
    """Whether the words of a turn show it finished (True), unfinished (False) or neither (None)."""
    stripped = text.strip().strip('"«»”“').rstrip()
    if not stripped:
        return None
    if stripped.endswith(UNFINISHED_ENDINGS):
        return False
    if stripped.endswith(FINISHED_ENDINGS):
        # The STT heard a question or an exclamation: "¿Perdona, que?" is finished too.
        return True
    words = _WORD.findall(stripped.lower())
    if not words:
        return None
    if words[-1] in UNFINISHED_LAST_WORDS:
        return False
    if classify_intent(stripped, objections) is not None:
        return True
    return None


class TranscriptFirstTurnStopStrategy(TurnAnalyzerUserTurnStopStrategy):
    """Pipecat's turn-analyser stop strategy, consulting the transcript before the model."""

    def __init__(
        self, *, analysis_wait_secs: float = DEFAULT_ANALYSIS_WAIT_SECS, objections: dict | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self._analysis_wait_secs = analysis_wait_secs
        self._objections = objections
        #: A VAD stop whose verdict is still open (no transcript read, no model run).
        self._verdict_due = False
        self._verdict_task: asyncio.Task | None = None
        #: A transcript arrived since the prospect last started speaking (it is this segment's).
        self._fresh_text = False
        #: Verdicts given by the words and by the model (for tests and benchmarks).
        self.text_verdicts = 0
        self.model_verdicts = 0

    async def _discard_pending_end_of_turn(self) -> None:
        await super()._discard_pending_end_of_turn()
        self._verdict_due = False
        await self._cancel_verdict_task()

    async def _cancel_verdict_task(self) -> None:
        task, self._verdict_task = self._verdict_task, None
        if task is not None and task is not asyncio.current_task():
            await self.task_manager.cancel_task(task)

    async def cleanup(self) -> None:
        await self._cancel_verdict_task()
        await super().cleanup()

    async def _handle_vad_user_started_speaking(self, frame: VADUserStartedSpeakingFrame) -> None:
        self._fresh_text = False
        await super()._handle_vad_user_started_speaking(frame)

    async def _handle_transcription(self, frame: TranscriptionFrame) -> None:
        await super()._handle_transcription(frame)
        self._fresh_text = True
        if self._verdict_due:
            await self._decide(from_text=True)

    async def _handle_vad_user_stopped_speaking(self, frame: VADUserStoppedSpeakingFrame) -> None:
        """The parent's VAD-stop bookkeeping, with the verdict moved to `_decide` (replaces the
        parent's handler, which runs the model at once)."""
        self._vad_user_speaking = False
        self._stop_secs = frame.stop_secs
        self._vad_stopped = True
        # The STT safety net, as in the parent: measured from the real end of speech.
        timeout = max(0.0, frame.timestamp - frame.stop_secs + self._stt_timeout - time.time())
        self._timeout_task = self.task_manager.create_task(
            self._timeout_handler(timeout), f"{self}::_timeout_handler"
        )
        self._verdict_due = True
        if self._fresh_text:
            # This segment's transcript came first (a streaming or simulated STT): decide now.
            await self._decide(from_text=True)
        else:
            self._verdict_task = self.task_manager.create_task(self._decide_after_wait(), f"{self}::verdict_wait")

    async def _decide_after_wait(self) -> None:
        try:
            await asyncio.sleep(self._analysis_wait_secs)
        except asyncio.CancelledError:
            return
        self._verdict_task = None
        if self._verdict_due:
            await self._decide(from_text=False)

    async def _decide(self, *, from_text: bool) -> None:
        self._verdict_due = False
        await self._cancel_verdict_task()
        verdict = text_turn_verdict(self._text, self._objections) if from_text else None
        if verdict is None:
            self.model_verdicts += 1
            state, prediction = await self._turn_analyzer.analyze_end_of_turn()
            await self._handle_prediction_result(prediction)
            self._turn_complete = state == EndOfTurnState.COMPLETE
        else:
            self.text_verdicts += 1
            logger.debug("{}: turn {} by its words", self, "finished" if verdict else "unfinished")
            self._turn_complete = verdict
            if verdict:
                # No silence fallback for a finished turn.
                self._turn_analyzer.clear()
        await self._maybe_trigger_user_turn_stopped()
