"""Pure builders of the call pipelines: parts in, a `Pipeline` out, no I/O of their own.

`build_call_pipeline` composes the product's pipeline in the order of the architecture::

    transport in -> VAD (Silero) -> speech gate -> STT -> [extra_processors] -> intent router -> filler injector
      -> user aggregator -> LLM -> TTS -> transfer processor -> call guard -> [output_processors]
      -> transport out -> assistant aggregator

with a shortcut (`processors.audio_bypass`) that carries the intent router's replies and the
filler injector's fillers from just after the filler injector to just after the TTS, so the
aggregator, the LLM and the TTS cannot hold them back, a gate (`processors.speech_gate`) that
lets the prospect's audio past the VAD only around speech, and a filter that drops it once the
user aggregator (its last consumer) has seen it.

The call's own transport (`processors.gated_input.SpeechGatedWebsocketTransport`, built by
`build_call_transport`) runs the VAD and the gate inside its receive loop, so a held packet never
enters a queue; with it, the builder adds no VAD or gate processor. Any other transport gets them
as processors (`build_vad_processor`, `build_speech_gate`), with the same frames coming out.

Our own processors (intent router, filler injector, bypass, transfer processor, call guard, speech
humanizer, the audio stop) run in Pipecat's direct mode: a frame pushed to one is handled right
away in the pushing task, instead of through the processor's input queue and task (and, for a
data frame, a second queue and task). None of them waits on anything in ``process_frame`` (their
timers and callbacks run in tasks of their own), so nothing is held up, and a filler decided at
the end of the prospect's turn crosses the seven of them to the transport without a task switch.
Under load every switch is a turn of the event loop behind every other call's work, and the
critical path had about eighteen of them. Pipecat's services and aggregators keep their queues.

Every part is passed in, so a service is swapped by passing another one (any Pipecat STT, LLM or
TTS service) and a processor is added with ``extra_processors`` (they see every final transcript,
before the intent router) or ``output_processors`` (they see everything the bot is about to say,
just before the transport). `build_stock_pipeline` is the plain Pipecat cascade, the baseline the
latency benchmark compares against.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.audio.vad.vad_analyzer import VADParams
from pipecat.pipeline.pipeline import Pipeline
from pipecat.frames.frames import Frame, InputAudioRawFrame, UserSpeakingFrame
from pipecat.processors.audio.vad_processor import VADProcessor
from pipecat.processors.filters.function_filter import FunctionFilter
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.transports.base_transport import BaseTransport
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams
from pipecat.turns.user_turn_strategies import UserTurnStrategies

from processors.audio_bypass import PrerenderedAudioBypass
from processors.backchannel_turn_start import BackchannelAwareUserTurnStartStrategy
from processors.shared_turn_models import SharedSileroVADAnalyzer, SharedSmartTurnAnalyzerV3
from processors.gated_input import SpeechGatedWebsocketTransport
from processors.speech_gate import SpeechWindow, SpeechWindowGate
from processors.turn_completion import TranscriptFirstTurnStopStrategy

#: Silero's silence before it reports the end of speech. Pipecat 1.x's default; smart-turn decides
#: whether that pause ends the turn.
VAD_STOP_SECS = 0.2
#: Smart-turn's fallback when it judges a turn incomplete. Pipecat's default is 3 s, which on 8 kHz
#: phone audio (where the model is more hesitant) means seconds of dead air; 1 s is a human pause.
SMART_TURN_FALLBACK_SECS = 1.0


def build_vad_analyzer(*, stop_secs: float = VAD_STOP_SECS, sample_rate: int | None = None) -> SharedSileroVADAnalyzer:
    """Silero VAD (the process-wide ONNX session) with our stop time."""
    return SharedSileroVADAnalyzer(sample_rate=sample_rate, params=VADParams(stop_secs=stop_secs))


def build_vad_processor(*, stop_secs: float = VAD_STOP_SECS, sample_rate: int | None = None) -> VADProcessor:
    """Silero VAD as a pipeline processor (VAD is no longer a transport parameter in 1.x)."""
    return VADProcessor(vad_analyzer=build_vad_analyzer(stop_secs=stop_secs, sample_rate=sample_rate))


async def _not_input_audio(frame: Frame) -> bool:
    return not isinstance(frame, (InputAudioRawFrame, UserSpeakingFrame))


def build_input_audio_stop() -> FunctionFilter:
    """Drops the prospect's audio and the VAD's ``UserSpeakingFrame`` after the user aggregator.

    The aggregator is the last consumer of both (its turn strategies read ``UserSpeakingFrame``;
    in Pipecat 1.14 otherwise only the worker's idle timeout, off in our calls, and the wake-phrase
    strategy do). Every audio frame, and the VAD's tick every 0.2 s of speech, would otherwise hop
    through the LLM, the TTS and everything behind them for nobody to read it. Only the downstream
    copies are dropped.
    """
    return FunctionFilter(_not_input_audio, filter_system_frames=True, name="InputAudioStop", enable_direct_mode=True)


def _gate_tail_secs(fallback_secs: float) -> float:
    """Audio the gate passes after a VAD stop: smart-turn's silence fallback plus a margin."""
    return fallback_secs + 0.5


def build_speech_window(*, fallback_secs: float = SMART_TURN_FALLBACK_SECS) -> SpeechWindow:
    """The gate's window, passing audio long enough after a stop for smart-turn's fallback."""
    return SpeechWindow(tail_secs=_gate_tail_secs(fallback_secs))


def build_speech_gate(*, fallback_secs: float = SMART_TURN_FALLBACK_SECS) -> SpeechWindowGate:
    """The gate as a processor behind a `VADProcessor` (for transports other than ours)."""
    return SpeechWindowGate(tail_secs=_gate_tail_secs(fallback_secs))


def build_call_transport(
    websocket,
    params: FastAPIWebsocketParams,
    *,
    stop_secs: float = VAD_STOP_SECS,
    fallback_secs: float = SMART_TURN_FALLBACK_SECS,
    sample_rate: int | None = None,
) -> SpeechGatedWebsocketTransport:
    """The call's WebSocket transport, with Silero and the speech gate in its receive loop."""
    return SpeechGatedWebsocketTransport(
        websocket=websocket,
        params=params,
        vad_analyzer=build_vad_analyzer(stop_secs=stop_secs, sample_rate=sample_rate),
        window=build_speech_window(fallback_secs=fallback_secs),
    )


def build_turn_strategies(
    *,
    fallback_secs: float = SMART_TURN_FALLBACK_SECS,
    min_barge_in_secs: float = 0.6,
    objections: dict | None = None,
) -> UserTurnStrategies:
    """Our turn taking: backchannel-aware barge-in; the end of a turn read from its transcript
    first and from smart-turn V3 (phone-friendly fallback) when the words leave it open."""
    analyzer = SharedSmartTurnAnalyzerV3(params=SmartTurnParams(stop_secs=fallback_secs))
    return UserTurnStrategies(
        start=[BackchannelAwareUserTurnStartStrategy(min_barge_in_secs=min_barge_in_secs)],
        stop=[TranscriptFirstTurnStopStrategy(turn_analyzer=analyzer, objections=objections)],
    )


def build_call_pipeline(
    *,
    transport: BaseTransport,
    stt: FrameProcessor,
    llm: FrameProcessor,
    tts: FrameProcessor,
    intent_router: FrameProcessor,
    filler_injector: FrameProcessor,
    transfer_processor: FrameProcessor,
    user_aggregator: FrameProcessor,
    assistant_aggregator: FrameProcessor,
    vad: FrameProcessor | None = None,
    speech_gate: FrameProcessor | None = None,
    call_guard: FrameProcessor | None = None,
    extra_processors: Sequence[FrameProcessor] = (),
    output_processors: Sequence[FrameProcessor] = (),
) -> Pipeline:
    """The product's call pipeline from its parts (see the module docstring for the order).

    When the transport's input detects speech itself (`build_call_transport`), there is no VAD or
    gate processor and passing ``vad`` or ``speech_gate`` is an error. Otherwise ``vad`` defaults
    to `build_vad_processor()` and ``speech_gate`` to `build_speech_gate()` (pass a gate built
    with the same fallback as the turn strategies). ``extra_processors`` go right after the STT
    (they see audio, VAD events and final transcripts before the intent router answers);
    ``output_processors`` go right before the transport output.
    """
    bypass = PrerenderedAudioBypass()
    transport_in = transport.input()
    if getattr(transport_in, "detects_speech", False):
        if vad is not None or speech_gate is not None:
            raise ValueError("this transport runs its own VAD and speech gate; do not pass vad or speech_gate")
        speech: list[FrameProcessor] = []
    else:
        speech = [
            vad if vad is not None else build_vad_processor(),
            speech_gate if speech_gate is not None else build_speech_gate(),
        ]
    processors: list[FrameProcessor] = [
        transport_in,
        *speech,
        stt,
        *extra_processors,
        intent_router,
        filler_injector,
        bypass.entry,
        user_aggregator,
        build_input_audio_stop(),
        llm,
        tts,
        bypass.exit,
        transfer_processor,
    ]
    if call_guard is not None:
        processors.append(call_guard)
    processors += [*output_processors, transport.output(), assistant_aggregator]
    return Pipeline(processors)


def build_stock_pipeline(
    *,
    transport: BaseTransport,
    stt: FrameProcessor,
    llm: FrameProcessor,
    tts: FrameProcessor,
    user_aggregator: FrameProcessor,
    assistant_aggregator: FrameProcessor,
) -> Pipeline:
    """The stock Pipecat cascade (transport, STT, aggregator with VAD, LLM, TTS, transport).

    The user aggregator carries the VAD here, as in Pipecat's own examples; this is the baseline
    of `bench/latency.py`, not something the product runs.
    """
    return Pipeline(
        [transport.input(), stt, user_aggregator, llm, tts, transport.output(), assistant_aggregator]
    )
