"""TLS benchmark: event-loop CPU of one call's vendor connection, a new TLS context each time or the shared one.

Every call opens an ElevenLabs stream (``wss://``), and the calls the bot ends or transfers make
a Telnyx client (``https://``). Given no context, `websockets` (through asyncio) and `httpx` make
one per connection or client with ``ssl.create_default_context()``, which loads the system's CA
certificates; `bot.tls.shared_tls_context` makes it once per process. Both run here in the same
process against the ElevenLabs twin served over TLS on loopback (a certificate made for the run,
trusted through ``SSL_CERT_FILE`` as the system's CA bundle plus that certificate, so a context
loads as many certificates as in production), and the CPU this process spends (``time.process_time``: the
event loop's thread, where every other call of a server process waits meanwhile) is measured per
connection, rounds alternating between the two ways. Also measured alone: one
``ssl.create_default_context()``.

Usage: ``.venv/bin/python bench/tls.py [--connections 20]``; writes ``bench/results/tls.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import websockets  # noqa: E402

from bot.tls import shared_tls_context  # noqa: E402
from tests.twins.elevenlabs_ws import ElevenLabsTwin  # noqa: E402
from tests.twins.loopback import loopback_tls  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "tls.json"


async def _connect_cpu_ms(url: str, context: ssl.SSLContext | None) -> float:
    """CPU ms of this process for one wss connect (TLS and WebSocket handshakes) and close."""
    start = time.process_time()
    kwargs = {"ssl": context} if context is not None else {}
    async with websockets.connect(url, additional_headers={"xi-api-key": "bench"}, **kwargs):
        pass
    return (time.process_time() - start) * 1000


async def main(connections: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cert, server = loopback_tls(Path(tmp))
        bundle = Path(tmp) / "bundle.pem"
        system = ssl.get_default_verify_paths().cafile
        bundle.write_bytes((Path(system).read_bytes() if system else b"") + cert.read_bytes())
        os.environ["SSL_CERT_FILE"] = str(bundle)  # the system's CAs and the run's certificate
        bundle_certificates = bundle.read_text().count("BEGIN CERTIFICATE")
        context_ms = []
        for _ in range(connections):
            start = time.process_time()
            ssl.create_default_context()
            context_ms.append((time.process_time() - start) * 1000)
        twin = ElevenLabsTwin()
        twin.ssl_context = server
        async with twin:
            url = f"{twin.ws_url}/v1/text-to-speech/bench/multi-stream-input?model_id=bench&output_format=pcm_8000"
            shared = shared_tls_context()
            await _connect_cpu_ms(url, shared)  # warm-up: imports, first handshake
            own, reused = [], []
            for _ in range(connections):
                own.append(await _connect_cpu_ms(url, None))
                reused.append(await _connect_cpu_ms(url, shared))
    own_ms, shared_ms = statistics.median(own), statistics.median(reused)
    return {
        "connections_per_way": connections,
        "ca_certificates_loaded": bundle_certificates,
        "create_default_context_cpu_ms_median": round(statistics.median(context_ms), 2),
        "wss_connect_cpu_ms_median": {"new_context_each": round(own_ms, 2), "shared_context": round(shared_ms, 2)},
        "ratio_shared_over_new": round(shared_ms / own_ms, 3) if own_ms else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=20)
    args = parser.parse_args()
    report = asyncio.run(main(args.connections))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
