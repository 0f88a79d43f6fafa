"""The exporter's public values: what it takes (:data:`Item`, :class:`Pending`, :data:`BatchHook`)
and what it reports (:class:`ExporterStats`, :class:`FlushResult`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from agentdeck.core.trace.model import Run, Span


class Pending(Protocol):
    """A finished span not yet built: ``to_span()`` runs in the worker thread."""

    def to_span(self) -> Span: ...


#: Applied by the worker to each built batch before delivery (redaction): never raises.
BatchHook = Callable[[list[Run], list[Span]], tuple[list[Run], list[Span]]]

#: What the recorder submits: a finished Span or Run, or a :class:`Pending` span.
Item = Span | Run | Pending


@dataclass(frozen=True, slots=True)
class ExporterStats:
    """Counters since the exporter started (exact once the queue is quiet)."""

    submitted: int
    queued: int
    dropped: int  # oldest items dropped because the queue was full (on_full="drop")
    exported_spans: int
    exported_runs: int
    failed_writes: int  # sink calls that raised
    spilled_batches: int
    resent_batches: int
    lost: int  # items that could neither be delivered nor spilled, or failed to build
    spill_pending: bool
    last_error: str | None
    spilled_items: int = 0  # runs and spans in the spill file, not yet re-sent
    in_memory: int = 0  # items handed to the sender and not yet delivered or spilled
    dead_lettered: int = 0  # items refused for good, written to the dead-letter file
    truncated: int = 0  # items cut to the span limits
    split_batches: int = 0  # batches split in two after a 413
    blocked_submits: int = 0  # submits that waited for room (on_full="block")


@dataclass(frozen=True, slots=True)
class FlushResult:
    """What :meth:`Exporter.flush` (``agentdeck.flush()``) found: falsy unless everything
    submitted so far was delivered. Counts are runs + spans; ``delivered``, ``dropped``,
    ``dead_lettered`` and ``lost`` are totals since ``init``; ``spilled`` and ``pending`` are
    what still waits (on disk, in memory)."""

    delivered: int
    spilled: int
    dropped: int
    dead_lettered: int
    lost: int
    pending: int
    timed_out: bool

    def __bool__(self) -> bool:
        waiting = self.spilled or self.pending or self.timed_out
        return not (waiting or self.dropped or self.dead_lettered or self.lost)
