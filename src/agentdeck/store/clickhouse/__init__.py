"""The ClickHouse trace store (``AGENTDECK_TRACES_URL``): runs and spans in ClickHouse, the
control plane in SQL (:class:`~.composite.CompositeStore`), through one connection seam
(:mod:`.seam`: ``chdb-core`` in-process or ``clickhouse-connect`` for a server)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from agentdeck.store.clickhouse.composite import CompositeStore
from agentdeck.store.clickhouse.seam import connect, parse_url
from agentdeck.store.clickhouse.traces import ClickHouseTraces

__all__ = ["ClickHouseTraces", "CompositeStore", "open_clickhouse_traces", "open_composite"]


def open_clickhouse_traces(url: str) -> ClickHouseTraces:
    """The trace store at ``url`` (tables created on first use)."""
    parsed = parse_url(url)
    return ClickHouseTraces(connect(parsed), parsed)


def open_composite(engine: Engine, traces_url: str) -> CompositeStore:
    return CompositeStore(engine, open_clickhouse_traces(traces_url))
