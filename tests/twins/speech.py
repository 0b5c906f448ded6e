"""A synthetic prospect's voice: espeak-ng speech as 8 kHz 16-bit mono PCM, as a phone line carries it.

Used by the end-to-end tests and the benchmarks, so both play the prospect the same audio.
"""

from __future__ import annotations

import hashlib
import subprocess
import wave
from pathlib import Path


def prospect_speech(text: str, directory: Path, voice: str = "es") -> bytes:
    """PCM of `voice` saying `text`, leading/trailing silence trimmed; rendered once per directory."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{hashlib.sha1(f'{voice}|{text}'.encode()).hexdigest()[:16]}.wav"
    if not path.exists():
        raw = path.with_suffix(".raw.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "-w", str(raw), text], check=True, capture_output=True)
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(path),
             "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"],
            check=True,
            capture_output=True,
        )
        raw.unlink(missing_ok=True)
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes())
