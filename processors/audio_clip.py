"""A pre-rendered piece of audio (filler, reply, prompt) as the processors consume it.

Defined here, at the bottom of the import graph, so that `processors/` can play clips that `bot/`
loads from disk without importing `bot/`.
"""

from __future__ import annotations

from dataclasses import dataclass

TELEPHONY_SAMPLE_RATE = 8000


@dataclass(frozen=True, slots=True)
class AudioClip:
    """16-bit little-endian mono PCM with what it says and how it was made."""

    id: str
    category: str
    text: str
    pcm: bytes
    sample_rate: int = TELEPHONY_SAMPLE_RATE
    #: True when produced by the offline (espeak-ng) voice rather than ElevenLabs.
    offline: bool = False

    @property
    def duration_ms(self) -> int:
        return len(self.pcm) * 1000 // (2 * self.sample_rate)
