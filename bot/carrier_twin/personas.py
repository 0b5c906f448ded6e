"""The carrier twin's simulated prospects: who picks up, after how long, and what they say.

Clips are recorded Spanish speech in ``assets/prospects/<persona>/`` with their texts in
``manifest.json`` (made by ``assets/prospects/make_clips.py``). Each turn follows the bot's opener
or its previous answer, as a person on the phone would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from bot.settings import ASSETS_DIR
from bot.twin_media import CalleeTurn

PROSPECTS_DIR = ASSETS_DIR / "prospects"

#: Persona order for numbers without an explicit assignment: the number's last digit picks one.
PERSONA_ORDER = (
    "interested",
    "price_then_decline",
    "busy",
    "no_answer",
    "voicemail",
    "callback",
    "opt_out",
    "wrong_number",
)


@dataclass(frozen=True)
class Persona:
    """How one simulated prospect behaves on a call (times in real seconds, before scaling)."""

    name: str
    ring_secs: float
    #: "answer", "busy" (rejects while ringing) or "no_answer" (rings until the dial's timeout).
    pickup: str = "answer"
    machine: bool = False
    #: Pause before each turn once the bot has gone quiet (a person thinking).
    pause_secs: float = 0.4
    #: After the last turn, hang up when the bot has been silent this long.
    hang_up_after_secs: float | None = 4.0
    #: Seconds the prospect stays on the line with the seller after a transfer.
    seller_talk_secs: float = 6.0

    def turns(self, time_scale: float = 1.0) -> list[CalleeTurn]:
        """The persona's turns, from the recorded clips."""
        clips = _manifest()["personas"].get(self.name, {}).get("clips", [])
        if self.machine:
            # A voicemail greeting starts as soon as the line opens, over whatever the bot says.
            return [CalleeTurn(text=c["text"], wav_path=PROSPECTS_DIR / c["file"], barge_in_after_secs=0.0) for c in clips]
        return [
            CalleeTurn(text=c["text"], wav_path=PROSPECTS_DIR / c["file"], pause_before_secs=self.pause_secs / time_scale)
            for c in clips
        ]


PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in (
        Persona("interested", ring_secs=4.0, pause_secs=0.5, hang_up_after_secs=6.0),
        Persona("price_then_decline", ring_secs=6.0, pause_secs=0.6),
        Persona("busy", ring_secs=3.0, pickup="busy"),
        Persona("no_answer", ring_secs=25.0, pickup="no_answer"),
        Persona("voicemail", ring_secs=12.0, machine=True, hang_up_after_secs=None),
        Persona("callback", ring_secs=5.0, pause_secs=0.5),
        Persona("opt_out", ring_secs=3.5, pause_secs=0.3),
        Persona("wrong_number", ring_secs=7.0, pause_secs=0.4),
    )
}


@lru_cache(maxsize=1)
def _manifest() -> dict:
    return json.loads((PROSPECTS_DIR / "manifest.json").read_text(encoding="utf-8"))


def persona_for_number(number: str, assigned: dict[str, str]) -> Persona:
    """The persona a dialed number plays: its assignment, else the one its last digit picks."""
    name = assigned.get(number)
    if name is None:
        digits = [c for c in number if c.isdigit()]
        name = PERSONA_ORDER[int(digits[-1]) % len(PERSONA_ORDER)] if digits else PERSONA_ORDER[0]
    return PERSONAS[name]
