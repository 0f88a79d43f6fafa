"""Failed authentication, limited per client address (in memory, per server process).

Each address may fail ``limit`` times in any ``window_s`` seconds; the next failure is answered
429 with ``Retry-After`` (seconds until the oldest counted failure leaves the window) instead
of 401. Only failures are counted and a valid credential is always checked and admitted, so
valid keys are never slowed or locked out, not even from an address that is (one user's typos,
or a guesser behind the same proxy, cannot stop an agent sending spans). Memory is bounded:
at most ``max_clients`` addresses are tracked, the least recently failing forgotten first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailureLimiter:
    def __init__(
        self,
        limit: int = 20,
        window_s: float = 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def failed(self, address: str) -> int | None:
        """Count a failure of ``address``; seconds to wait if it is now over the limit."""
        now = self._clock()
        with self._lock:
            times = self._failures.pop(address, None) or deque(maxlen=self.limit + 1)
            while times and now - times[0] >= self.window_s:
                times.popleft()
            times.append(now)
            self._failures[address] = times
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
            if len(times) <= self.limit:
                return None
            return max(1, math.ceil(times[0] + self.window_s - now))

    def tracked(self) -> int:
        with self._lock:
            return len(self._failures)
