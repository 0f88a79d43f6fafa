"""The agentdeck app (any ASGI app) under uvicorn in a thread, for live tests on the ``store``
fixture (both backends): the same process, so a test can read the store the server writes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI


def serve_in_thread(app: FastAPI) -> tuple[str, Callable[[], None]]:
    """``app`` under uvicorn in a thread, on a socket already bound (no port race); returns the
    base URL and a function that stops it (running the app's shutdown)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"

    def stop() -> None:
        server.should_exit = True
        thread.join(10)
        sock.close()

    return f"http://127.0.0.1:{port}", stop
