"""Several destinations at once: one :class:`Exporter` each, fed the same batches.

``agentdeck.init(otlp_endpoint=...)`` beside the agentdeck destination (server or embedded
store) gives two destinations. The first exporter's queue and drain thread build, limit and
redact each batch once and hand it to every exporter (its ``taps``); each then has its own
hand-off, send thread, spill file (the extra ones in a sub-directory of the spill directory)
and dead-letter file, so a destination that is down or slow spills and retries on its own
while the others keep delivering: nothing one destination does blocks another. :class:`FanOut` has the exporter's interface (``submit``, ``flush``,
``shutdown``, ``stats``); its counts are totals over the destinations (a span delivered to two
destinations counts twice in ``exported_spans``); ``submitted`` and ``dropped`` are the
first exporter's (the one queue). ``flush()`` is falsy unless every destination has everything.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import fields

from agentdeck.tracing.sdk.exporter import Exporter
from agentdeck.tracing.sdk.exporter_types import ExporterStats, FlushResult, Item
from agentdeck.tracing.sdk.sink import SpanSink

__all__ = ["FanOut"]


class FanOut:
    """The same items to every exporter; the first is the primary (its sink is ``sink``)."""

    def __init__(self, exporters: Sequence[Exporter]) -> None:
        if not exporters:
            raise ValueError("FanOut needs at least one exporter")
        self.exporters = tuple(exporters)
        self.exporters[0].taps = self.exporters[1:]

    @property
    def sink(self) -> SpanSink:
        return self.exporters[0].sink

    def submit(self, item: Item) -> None:
        """Queue ``item`` (on the first exporter, whose drain thread feeds the others). Never
        raises (as :meth:`Exporter.submit`)."""
        self.exporters[0].submit(item)

    def flush(self, timeout: float | None = 5.0) -> FlushResult:
        """Flush the first exporter (which hands everything to the others), then the others."""
        deadline = None if timeout is None else time.monotonic() + timeout
        results = [e.flush(_left(deadline)) for e in self.exporters]
        return FlushResult(
            delivered=sum(r.delivered for r in results),
            spilled=sum(r.spilled for r in results),
            dropped=sum(r.dropped for r in results),
            dead_lettered=sum(r.dead_lettered for r in results),
            lost=sum(r.lost for r in results),
            pending=sum(r.pending for r in results),
            timed_out=any(r.timed_out for r in results),
        )

    def shutdown(self, timeout: float | None = 5.0) -> bool:
        """Shut every exporter down within ``timeout`` in all, the first (which feeds the
        others) first, then close the extra sinks (the first's is closed by
        ``agentdeck.shutdown``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = all([e.shutdown(_left(deadline)) for e in self.exporters])
        for e in self.exporters[1:]:
            close = getattr(e.sink, "shutdown", None) or getattr(e.sink, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    ok = False
        return ok

    def stats(self) -> ExporterStats:
        each = [e.stats() for e in self.exporters]
        values: dict[str, object] = {}
        for f in fields(ExporterStats):
            got = [getattr(s, f.name) for s in each]
            if f.name == "submitted":
                values[f.name] = max(got)
            elif f.name == "last_error":
                values[f.name] = next((g for g in got if g), None)
            elif f.name == "spill_pending":
                values[f.name] = any(got)
            else:
                values[f.name] = sum(got)
        return ExporterStats(**values)  # type: ignore[arg-type]

    def destination_stats(self) -> list[ExporterStats]:
        """Each destination's own counters, the primary first."""
        return [e.stats() for e in self.exporters]


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())
