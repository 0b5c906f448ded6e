"""A/B CPU benchmark: the server of this checkout against another revision's, side by side.

The cores of the development VM change speed from minute to minute (`bench/concurrency.py`'s
``calibration_ms`` moved by 1.9x within one run), so two runs of the same benchmark minutes apart
cannot tell a 5 % change from noise. Here both servers run at the same time, on the same
machine, under the same load: the baseline revision (checked out with ``git worktree`` into a
temporary directory) and this checkout, each a uvicorn process on PostgreSQL, each taking
``--calls`` concurrent calls placed back to back at random phases (the steady state of
`bench/concurrency.py`: opener, an open question, filler and answer, hang-up; twins at LLM 350 /
TTS 200 ms, simulated STT). Over the same ``--secs`` window the server CPU of each is read from
/proc. A second round swaps the order in which the servers are started and fed.

Writes ``bench/results/ab_servers.json``: per round and server, CPU per concurrent call (fraction
of a core), answered turns and p95 first-audio latency; and the ratio of this checkout's CPU per
call to the baseline's (mean over the rounds).

Usage: ``.venv/bin/python bench/ab_servers.py --baseline <git rev> [--calls 15] [--secs 30]
[--rounds 2]``. Needs PostgreSQL at 127.0.0.1:5432 (``BENCH_PG_ADMIN``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.call_harness import p95, prospect_clip, seed_calls  # noqa: E402
from bench.concurrency import (  # noqa: E402
    ANSWER,
    CALL_SECS,
    QUESTION,
    _cpu_secs,
    _one_call,
    _start_server,
    _tree,
    create_database,
    drop_database,
    prepare_load,
)
from tests.twins.elevenlabs_http import ElevenLabsTwin as ElevenLabsRestTwin  # noqa: E402
from tests.twins.elevenlabs_ws import ElevenLabsTwin  # noqa: E402
from tests.twins.openai_api import ChatReply, OpenAITwin  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "ab_servers.json"


async def _round(checkouts: dict[str, Path], env: dict[str, str], calls: list, settings, n: int, secs: float) -> dict:
    """Both servers up, `n` steady lines each, CPU and latency over the same `secs` window."""
    servers = {name: await _start_server(1, env, cwd=path) for name, path in checkouts.items()}
    clip = prospect_clip(QUESTION)
    rng = random.Random(7)
    t0 = time.monotonic()
    measure_from, measure_to = t0 + CALL_SECS, t0 + CALL_SECS + secs
    latencies: dict[str, list[float]] = {name: [] for name in checkouts}

    async def line(name: str, url: str, delay: float) -> None:
        await asyncio.sleep(delay)
        while time.monotonic() < measure_to and calls:
            for end, latency in await _one_call(url, calls.pop(), clip, 0.0, settings):
                if measure_from <= end <= measure_to:
                    latencies[name].append(latency * 1000)

    try:
        lines = [
            asyncio.create_task(line(name, f"ws://127.0.0.1:{port}/telnyx/media", rng.uniform(0, CALL_SECS)))
            for name, (_proc, port) in servers.items()
            for _ in range(n)
        ]
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        cpu0 = {name: _cpu_secs(_tree(proc.pid)) for name, (proc, _port) in servers.items()}
        await asyncio.sleep(max(0.0, measure_to - time.monotonic()))
        cpu1 = {name: _cpu_secs(_tree(proc.pid)) for name, (proc, _port) in servers.items()}
        await asyncio.gather(*lines)
    finally:
        for proc, _port in servers.values():
            proc.terminate()
            proc.wait(timeout=20)
    out = {}
    for name in checkouts:
        ms = sorted(latencies[name])
        out[name] = {
            "cpu_cores_per_call": round((cpu1[name] - cpu0[name]) / secs / n, 4),
            "answered_turns": len(ms),
            "first_audio_p95_ms": round(p95(ms), 1) if ms else None,
        }
    return out


async def main(baseline: str, n: int, secs: float, rounds: int) -> dict:
    rev = subprocess.run(["git", "rev-parse", baseline], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    worktree = Path(tempfile.mkdtemp(prefix="coldcall-ab-")) / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(worktree), rev], cwd=ROOT, check=True, capture_output=True)
    name, db = await create_database("coldcall_ab")
    tmp = Path(tempfile.mkdtemp(prefix="coldcall-ab-cache-"))
    report: dict = {"baseline": rev, "calls_per_server": n, "window_secs": secs, "rounds": []}
    try:
        calls = await seed_calls(db, rounds * 2 * n * (int(secs / CALL_SECS) + 4))
        async with OpenAITwin(first_token_latency=0.35, chat_reply=lambda body: ChatReply(text=ANSWER)) as openai_twin, \
                ElevenLabsTwin(first_byte_latency=0.2) as eleven:
            rest = ElevenLabsRestTwin().start()
            try:
                env, settings = await prepare_load(db, tmp / "cache", openai_twin.base_url, eleven.ws_url, rest.base_url)
                order = {"baseline": worktree, "this": ROOT}
                for i in range(rounds):
                    checkouts = order if i % 2 == 0 else dict(reversed(order.items()))
                    report["rounds"].append(await _round(checkouts, env, calls, settings, n, secs))
                    print(json.dumps(report["rounds"][-1]), flush=True)
            finally:
                rest.stop()
    finally:
        await drop_database(name)
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, capture_output=True)
    ratios = [r["this"]["cpu_cores_per_call"] / r["baseline"]["cpu_cores_per_call"] for r in report["rounds"]]
    report["cpu_per_call_ratio_this_over_baseline"] = round(sum(ratios) / len(ratios), 3)
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="git revision to compare against (e.g. HEAD~1)")
    parser.add_argument("--calls", type=int, default=15, help="concurrent calls per server")
    parser.add_argument("--secs", type=float, default=30.0, help="measuring window per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import uvloop

    result = uvloop.run(main(args.baseline, args.calls, args.secs, args.rounds))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
