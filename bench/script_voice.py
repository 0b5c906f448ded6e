"""Benchmark of the script and voice path: what the dialer and a call's start pay for words and audio.

Run: ``.venv/bin/python bench/script_voice.py`` (about 20 s). Prints the numbers and writes
``bench/results/script_voice.json``:

* ``generate_script_us``: one `ScriptGenerator.generate_script` with the Humanizer Engine (dicts,
  2,000 prospects over a year of dates and four regions);
* ``non_working_reason_us``: one `non_working_reason` call (what the dialer asks per prospect);
* ``assets_generate_s``: `generate_assets` of one voice type with the offline voice (fresh cache);
* ``load_audio_library_ms``: first load of a library from disk, then a repeat (process cache),
  then with a campaign overlay whose replies are rendered;
* ``render_opener_ms``: an opener with the offline voice: first render vs cache hit;
* ``elevenlabs_twin_ms``: a REST TTS request to the local ElevenLabs twin vs the cache hit
  (loopback, so it measures our client and cache, not ElevenLabs).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loguru import logger  # noqa: E402

from bench.intents import summary  # noqa: E402  (the one percentile summary of bench/)
from bot.assets import generate_assets, load_audio_library, render_opener  # noqa: E402
from bot.calendar import non_working_reason  # noqa: E402
from bot.script import ScriptGenerator  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.voice import VoiceGenerator  # noqa: E402
from tests.twins.elevenlabs_http import ElevenLabsTwin  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "script_voice.json"
ICP = {"pain_points": ["Prospección manual"], "value_proposition": "Automatiza prospección", "industry": "saas"}
CAMPAIGN = {"script_template": "Hola {{first_name}}, soy Juan de Wallie. Vi que en {{company}} {{pain_point}}..."}
REGIONS = ["ES-MD", "ES-CT", "ES-AN", None]


def bench_scripts() -> dict[str, float]:
    times = []
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    for i in range(2000):
        prospect = {"id": f"p{i}", "full_name": "María López", "company": "TechCorp", "role": "Directora Comercial",
                    "region": REGIONS[i % 4]}
        now = start + timedelta(days=i % 365, hours=i % 9)
        began = time.perf_counter()
        ScriptGenerator.generate_script(ICP, prospect, CAMPAIGN, now=now)
        times.append((time.perf_counter() - began) * 1e6)
    return summary(times)


def bench_calendar() -> dict[str, float]:
    times = []
    for i in range(5000):
        day = date(2026, 1, 1) + timedelta(days=i % 365)
        began = time.perf_counter()
        non_working_reason(day, "ES", REGIONS[i % 4])
        times.append((time.perf_counter() - began) * 1e6)
    return summary(times)


def main() -> None:
    logger.remove()
    results: dict[str, object] = {}
    results["generate_script_us"] = bench_scripts()
    results["non_working_reason_us"] = bench_calendar()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, cache_dir=Path(tmp) / "cache", assets_audio_dir=Path(tmp) / "audio",
                            elevenlabs_api_key=None)
        began = time.perf_counter()
        generate_assets(settings, "male_professional", offline=True)
        results["assets_generate_s"] = round(time.perf_counter() - began, 2)

        began = time.perf_counter()
        load_audio_library(settings, "male_professional")
        first = (time.perf_counter() - began) * 1000
        began = time.perf_counter()
        load_audio_library(settings, "male_professional")
        repeat = (time.perf_counter() - began) * 1000
        campaign = {"voice_type": "male_professional",
                    "pregenerated_replies": {"cuanto_cuesta": "Desde noventa y nueve euros al mes."}}
        load_audio_library(settings, "male_professional", campaign)  # renders the gap once
        overlay = []
        for _ in range(20):
            began = time.perf_counter()
            load_audio_library(settings, "male_professional", campaign)
            overlay.append((time.perf_counter() - began) * 1000)
        results["load_audio_library_ms"] = {"first": round(first, 2), "repeat": round(repeat, 4),
                                            "with_campaign": summary(overlay)}

        text = "Feliz viernes. ¿Tienes dos minutos? Hola María, soy Juan de Wallie. Vi que en TechCorp tienen prospección manual..."
        began = time.perf_counter()
        asyncio.run(render_opener(settings, text, "male_professional"))
        cold = (time.perf_counter() - began) * 1000
        hits = []
        for _ in range(20):
            began = time.perf_counter()
            asyncio.run(render_opener(settings, text, "male_professional"))
            hits.append((time.perf_counter() - began) * 1000)
        results["render_opener_ms"] = {"offline_first": round(cold, 1), "cache_hit": summary(hits)}

        with ElevenLabsTwin(api_key="sk_bench_0123456789") as twin:
            online = Settings(_env_file=None, cache_dir=Path(tmp) / "cache2", elevenlabs_api_key="sk_bench_0123456789",
                              elevenlabs_base_url=twin.base_url)
            generator = VoiceGenerator(online)
            misses, cached = [], []
            for i in range(30):
                began = time.perf_counter()
                generator.generate_voice(f"Frase número {i}.", output_format="pcm_8000")
                misses.append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                generator.generate_voice(f"Frase número {i}.", output_format="pcm_8000")
                cached.append((time.perf_counter() - began) * 1000)
            results["elevenlabs_twin_ms"] = {"request": summary(misses), "cache_hit": summary(cached),
                                             "requests_seen": len(twin.tts_requests)}

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
