"""One TLS client context per process, shared by every connection to a vendor.

Without one, each connection builds its own: `websockets` makes ``ssl.create_default_context()``
for every ``wss://`` connect (the ElevenLabs stream of every call), and every ``httpx`` client
does the same when it is made (a Telnyx client per hang-up or transfer). Loading the system's
CA certificates into a new context is CPU on the event loop, and every other call in the process
waits meanwhile: on the development machine (`bench/tls.py`, 145 CA certificates) a ``wss://``
connect cost 58 ms of CPU with a context of its own and 6 ms with the shared one.
A context can wrap any number of connections (and threads); this one verifies certificates and
host names exactly like the defaults (``SSL_CERT_FILE``/``SSL_CERT_DIR`` are honoured as usual).
"""

from __future__ import annotations

import ssl
from functools import cache


@cache
def shared_tls_context() -> ssl.SSLContext:
    """The process's client TLS context (``ssl.create_default_context()``, made on first use)."""
    return ssl.create_default_context()
