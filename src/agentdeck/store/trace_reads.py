"""The :class:`TraceReads` protocol in a module of its own, so that loading one trace
(:func:`agentdeck.tracing.analysis.queries.load_trace`) does not import every record type the
whole store protocol names; :mod:`.protocol` re-exports it with the other store protocols."""

from __future__ import annotations

from typing import Protocol

from agentdeck.core.trace.model import Run, Span

__all__ = ["TraceReads"]


class TraceReads(Protocol):
    """A run and its spans by id or id prefix: what loading one trace needs (the SQL store,
    and the CLI's read-only SQLite path, :class:`~agentdeck.store.lite_traces.LiteTraces`)."""

    def get_run(self, trace_id: str) -> Run | None: ...
    def get_spans(self, trace_id: str) -> list[Span]: ...
    def trace_ids_with_prefix(
        self, prefix: str, limit: int = 3, project: str | None = None
    ) -> list[str]: ...
