"""Delivering one batch so that a bad batch never stops the rest (the exporter's send thread).

A sink raising :class:`~agentdeck.tracing.sdk.sink.SinkRejected` with a permanent status is not
retried: a 413 splits the batch (runs apart from spans, then halves, down to one item); one item
still refused is cut to ``limits.harder()`` once; whatever is still refused, and any other
permanent refusal (400/401/403/404/422), goes to the dead-letter file with a counter. Anything
else the sink raises (5xx, 408, 429, a transport error) propagates: the exporter spills the
batch and retries it with backoff.
"""

from __future__ import annotations

import logging

from agentdeck.core.trace.model import Run, Span
from agentdeck.core.trace.raw_json import thaw_run, thaw_span
from agentdeck.tracing.sdk.limits import SpanLimits, limit_run, limit_span
from agentdeck.tracing.sdk.sink import SinkRejected, SpanSink
from agentdeck.tracing.sdk.spill import DeadLetterFile

log = logging.getLogger("agentdeck.tracing")


class Delivery:
    """Sends batches to ``sink``; counts what was delivered, split, truncated, dead-lettered.

    Used by one thread (the exporter's send thread); the counters are read by ``stats()``.
    """

    def __init__(self, sink: SpanSink, limits: SpanLimits, dead: DeadLetterFile) -> None:
        self.sink = sink
        self.limits = limits
        self.dead = dead
        self.exported_spans = self.exported_runs = 0
        self.splits = self.truncated = self.dead_lettered = self.lost = 0
        self.last_refusal: str | None = None
        # A sink that writes JSON takes captured bytes as they are; any other gets JSON data.
        self.raw_json = getattr(type(sink), "raw_json", False) is True

    def send(self, runs: list[Run], spans: list[Span]) -> None:
        """Deliver one batch; raises only what a later retry may fix."""
        if not self.raw_json:
            runs = [thaw_run(r) for r in runs]
            spans = [thaw_span(s) for s in spans]
        self._send(runs, spans, harder=False)

    def _send(self, runs: list[Run], spans: list[Span], *, harder: bool) -> None:
        try:
            self.sink.write_batch(runs, spans)
        except SinkRejected as exc:
            if not exc.permanent:
                raise
            self._refused(runs, spans, exc, harder)
            return
        self.exported_spans += len(spans)
        self.exported_runs += len(runs)

    def _refused(self, runs: list[Run], spans: list[Span], exc: SinkRejected, harder: bool) -> None:
        n = len(runs) + len(spans)
        if exc.status == 413 and n > 1:
            self.splits += 1
            if runs and spans:
                self._send(runs, [], harder=harder)
                self._send([], spans, harder=harder)
            else:
                h = n // 2
                self._send(runs[:h], spans[:h], harder=harder)
                self._send(runs[h:], spans[h:], harder=harder)
            return
        if exc.status == 413 and not harder:
            tight = self.limits.harder()
            cut_runs = [limit_run(r, tight) for r in runs]
            cut_spans = [limit_span(s, tight) for s in spans]
            if cut_runs != runs or cut_spans != spans:
                self.truncated += n
                self._send(cut_runs, cut_spans, harder=True)
                return
        self._dead_letter(runs, spans, exc)

    def _dead_letter(self, runs: list[Run], spans: list[Span], exc: SinkRejected) -> None:
        n = len(runs) + len(spans)
        self.last_refusal = f"sink refused {n} items for good: {exc}"
        try:
            kept = self.dead.append(runs, spans, str(exc), exc.status)
        except Exception as err:
            kept = False
            self.last_refusal = f"dead-letter: {type(err).__name__}: {err}"
        if kept:
            self.dead_lettered += n
            log.warning("agentdeck: destination refused %d items (%s); dead-lettered", n, exc)
        else:
            self.lost += n
            log.warning("agentdeck: destination refused %d items (%s); dead-letter full", n, exc)
