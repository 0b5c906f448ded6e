"""SpeechHumanizer: micro-pauses between sentences, breaths, rare corrections, clips untouched."""

from __future__ import annotations

import random

from pipecat.frames.frames import (
    BotStoppedSpeakingFrame,
    Frame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
    TTSTextFrame,
)
from pipecat.tests.utils import SleepFrame, run_test
from pipecat.utils.text.base_text_aggregator import TextType

from processors.fillers import HumanFillerEngine
from processors.speech_humanizer import SpeechHumanizer, mentions_price
from tests.processors.helpers import filler_library, tone_clip

CHUNK = tone_clip("chunk", "tts", "", 500).pcm  # 0.5 s of "speech"


def response(context_id: str, sentences: list[str], chunks_per_sentence: int = 1) -> list[Frame]:
    """What a TTS pushes for one answer: audio of each sentence, then its text."""
    frames: list[Frame] = [TTSStartedFrame(context_id=context_id)]
    for sentence in sentences:
        frames += [TTSAudioRawFrame(audio=CHUNK, sample_rate=8000, num_channels=1, context_id=context_id)] * chunks_per_sentence
        text = TTSTextFrame(sentence, text_type=TextType.SENTENCE)
        text.context_id = context_id
        frames.append(text)
    frames.append(TTSStoppedFrame(context_id=context_id))
    return frames


def inserted(frames: list[Frame]) -> list[TTSAudioRawFrame]:
    return [f for f in frames if isinstance(f, TTSAudioRawFrame) and f.audio != CHUNK]


def is_silence(frame: TTSAudioRawFrame) -> bool:
    return not any(frame.audio)


async def test_micro_pause_between_sentences_only() -> None:
    engine = HumanFillerEngine(filler_library(), error_rate=0.0, rng=random.Random(1))
    humanizer = SpeechHumanizer(engine, breaths=False)
    down, _ = await run_test(humanizer, frames_to_send=response("llm-1", ["Hola.", "¿Qué tal?", "Te cuento."]))
    pauses = inserted(down)
    assert len(pauses) == 2 and all(is_silence(p) for p in pauses)
    for pause in pauses:
        assert 200 <= len(pause.audio) * 1000 // (2 * 8000) <= 500
        assert pause.context_id == "llm-1"
    # The pause sits right before the next sentence's audio.
    first_pause = down.index(pauses[0])
    assert isinstance(down[first_pause - 1], TTSTextFrame) and down[first_pause + 1].audio == CHUNK


async def test_pre_rendered_clips_are_never_altered() -> None:
    engine = HumanFillerEngine(filler_library(), error_rate=1.0, rng=random.Random(2))
    humanizer = SpeechHumanizer(engine)
    frames = response("reply-cuanto_cuesta-1", ["Uno.", "Dos."]) + response("opener", ["Hola.", "Soy Ana."])
    down, _ = await run_test(humanizer, frames_to_send=frames)
    assert not inserted(down)


async def test_breath_after_fifteen_to_twenty_seconds_of_continuous_speech() -> None:
    engine = HumanFillerEngine(filler_library(), error_rate=0.0, rng=random.Random(3))
    humanizer = SpeechHumanizer(engine, micro_pauses=False)
    sentences = [f"Frase número {i}." for i in range(12)]
    # 12 sentences x 4 chunks x 0.5 s = 24 s of speech: exactly one breath.
    down, _ = await run_test(humanizer, frames_to_send=response("llm-1", sentences, chunks_per_sentence=4))
    breaths = inserted(down)
    assert len(breaths) == 1 and not is_silence(breaths[0])
    spoken_before = sum(1 for f in down[: down.index(breaths[0])] if isinstance(f, TTSAudioRawFrame)) * 0.5
    assert 15 <= spoken_before <= 22


async def test_bot_silence_restarts_the_breath_count() -> None:
    engine = HumanFillerEngine(filler_library(), error_rate=0.0, rng=random.Random(4))
    humanizer = SpeechHumanizer(engine, micro_pauses=False)
    frames = []
    for i in range(4):  # 4 answers of 6 s each, with the bot silent in between
        frames += response(f"llm-{i}", ["Una frase larga.", "Otra frase.", "Y otra más."], chunks_per_sentence=4)
        # System frames overtake queued data frames, so let the answer pass first (as in a call,
        # where the transport reports the stop after the audio has played).
        frames += [SleepFrame(0.05), BotStoppedSpeakingFrame(), SleepFrame(0.02)]
    down, _ = await run_test(humanizer, frames_to_send=frames)
    assert not inserted(down)


async def test_correction_never_in_the_first_response_nor_near_prices_and_at_most_once() -> None:
    engine = HumanFillerEngine(filler_library(), error_rate=1.0, rng=random.Random(5))
    humanizer = SpeechHumanizer(engine, micro_pauses=False, breaths=False)
    frames = (
        response("llm-1", ["Hola, soy Ana.", "Te llamo por lo de tu equipo."])  # first response
        + response("llm-2", ["Tenemos planes desde 149 euros.", "Se adapta a tu equipo."])  # price
        + response("llm-3", ["Te cuento cómo funciona.", "Es muy sencillo.", "Lo ves en una demo."])
    )
    down, _ = await run_test(humanizer, frames_to_send=frames)
    corrections = inserted(down)
    assert len(corrections) == 1
    position = down.index(corrections[0])
    context_ids = [f.context_id for f in down[:position] if isinstance(f, TTSStartedFrame)]
    assert context_ids[-1] == "llm-3"


def test_mentions_price() -> None:
    assert mentions_price("Tenemos planes desde 149 euros al mes.")
    assert mentions_price("El precio depende del equipo.")
    assert not mentions_price("Te cuento cómo funciona.")
