"""The lifecycle of the server's background threads, once: start one named daemon thread,
ask it to stop, join it.

Used by the ingest writer, the after-ingest queue and the alert loop. ``stopping`` is set when
:meth:`Worker.close` is called (a loop can ``stopping.wait(interval)``); ``wake`` is called
right after, for a worker blocked on its queue (typically ``lambda: q.put(None)``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Worker"]


class Worker:
    """One background thread running ``target``; :meth:`start` and :meth:`close` are idempotent."""

    def __init__(
        self, name: str, target: Callable[[], None], *, wake: Callable[[], None] | None = None
    ) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._target = target
        self._wake = wake
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`close`."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread, unless it is already running."""
        with self._lock:
            if self._thread is not None:
                return
            self.stopping.clear()
            self._thread = threading.Thread(target=self._target, name=self.name, daemon=True)
            self._thread.start()

    def close(self, timeout: float) -> bool:
        """Ask the thread to stop and wait up to ``timeout`` seconds; True if it ended."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return True
        self.stopping.set()
        if self._wake is not None:
            self._wake()
        thread.join(timeout)
        return not thread.is_alive()
