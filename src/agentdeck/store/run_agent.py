"""The agent of a run whose spans arrive in several batches (OTLP): the earliest agent span
that names its agent, among the spans stored so far.

A run derived from a root span that names no agent (the Agents SDK's workflow span), or a
provisional run built from whichever child spans came first, cannot know it from its own batch.
:func:`settle_agents` runs in the transaction of every batch, for the traces it touched, and
only for runs that are provisional, have no agent, or whose root span is not an agent span (the
agent then came from whichever agent spans arrived with the root): the agent of a run whose
root is an agent span (a run stamp's, a named root's) is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Connection

from agentdeck.store.engine import param_mark

_CHUNK = 500


def settle_agents(conn: Connection, trace_ids: Sequence[str], is_provisional_sql: str) -> None:
    """Set ``agent_name`` of those runs (module docstring) to that of their earliest stored
    agent span with an ``agent.name`` attribute; one SELECT per chunk, one UPDATE for the runs
    that change."""
    mark = param_mark(conn)
    updates: list[tuple[str, str, str]] = []
    for i in range(0, len(trace_ids), _CHUNK):
        part = tuple(trace_ids[i : i + _CHUNK])
        rows = conn.exec_driver_sql(
            "SELECT runs.trace_id, runs.agent_name, spans.attributes FROM runs"
            " JOIN spans ON spans.trace_id = runs.trace_id AND spans.kind = 'agent'"
            f" WHERE runs.trace_id IN ({', '.join([mark] * len(part))})"
            f" AND (runs.agent_name IS NULL OR {is_provisional_sql} OR NOT EXISTS ("
            "SELECT 1 FROM spans root WHERE root.trace_id = runs.trace_id"
            " AND root.span_id = runs.root_span_id AND root.kind = 'agent'))"
            " ORDER BY runs.trace_id, spans.start_ns, spans.seq",
            part,
        ).all()
        done: set[str] = set()
        for trace_id, current, attributes in rows:
            if trace_id in done:
                continue
            name = _agent_name(attributes)
            if name is None:
                continue
            done.add(trace_id)
            if name != current:
                updates.append((name, trace_id, name))
    if updates:
        conn.exec_driver_sql(
            f"UPDATE runs SET agent_name = {mark}, agent_version = NULL, agent_digest = NULL"
            f" WHERE trace_id = {mark} AND (agent_name IS NULL OR agent_name <> {mark})",
            updates,
        )


def _agent_name(attributes: object) -> str | None:
    if isinstance(attributes, bytes | str):
        try:
            attributes = orjson.loads(attributes)
        except orjson.JSONDecodeError:
            return None
    name = attributes.get("agent.name") if isinstance(attributes, dict) else None
    return name if isinstance(name, str) else None
