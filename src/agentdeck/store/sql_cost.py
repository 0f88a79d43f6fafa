"""Tokens and cost in SQL: LLM spans priced at ingest, run sums kept from them, and totals.

A span that reports token usage is priced before the batch is written (its model's price as
of the span's start, :mod:`agentdeck.prices`); its ``cost_usd`` is NULL when the model has no
known price. A run's ``input_tokens``, ``output_tokens``, ``total_tokens``, ``cost_usd`` and
``unpriced_calls`` are summed from its stored spans in the same transaction, for every run the
batch writes and every trace that gained spans with usage, through the covering partial index
``ix_spans_usage``: idempotent, and right whatever the order in which a run and its spans
arrive (as the tool-error counts of :mod:`agentdeck.store.sql_traces`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from agentdeck.core.cost import COST_GROUPS, CostTotal, ModelPrice, PriceSource, call_cost, model_of
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Span
from agentdeck.store.base import SqlBase
from agentdeck.store.engine import param_mark

__all__ = ["SqlCost", "price_spans", "recount_cost", "span_costs"]

_IN_CHUNK = 1000
_DAY_NS = 86_400 * 10**9


def span_costs(spans_: Sequence[Span], prices: PriceSource) -> list[float | None]:
    """The cost of each span of ``spans_`` (None: no usage, or an unknown model), aligned
    with it; each (model, provider, day) is looked up once per batch."""
    out: list[float | None] = []
    seen: dict[tuple[str, str | None, int], ModelPrice | None] = {}
    for s in spans_:
        usage = s.usage
        if usage is None:
            out.append(None)
            continue
        if s.cost_usd is not None:
            out.append(s.cost_usd)
            continue
        model, provider = model_of(s.attributes)
        if model is None:
            out.append(None)
            continue
        key = (model, provider, s.start_ns // _DAY_NS)
        if key in seen:
            price = seen[key]
        else:
            price = seen[key] = prices.price(model, provider, s.start_ns)
        out.append(None if price is None else call_cost(usage, price))
    return out


def price_spans(spans_: Sequence[Span], prices: PriceSource) -> list[Span]:
    """``spans_`` with the cost of those that report usage (module docstring)."""
    return [
        s if c is None or c == s.cost_usd else replace(s, cost_usd=c)
        for s, c in zip(spans_, span_costs(spans_, prices), strict=True)
    ]


def recount_cost(conn: Connection, trace_ids: Sequence[str]) -> None:
    """Set the token and cost sums of those runs from their stored spans (module docstring):
    one aggregate per chunk through ``ix_spans_usage``, then one UPDATE per run that has
    spans with usage (a run without any keeps the zeros it was written with)."""
    mark = param_mark(conn)
    found: list[tuple[Any, ...]] = []
    for i in range(0, len(trace_ids), _IN_CHUNK):
        part = tuple(trace_ids[i : i + _IN_CHUNK])
        rows = conn.exec_driver_sql(
            "SELECT trace_id, SUM(input_tokens), SUM(COALESCE(output_tokens, 0)), SUM(cost_usd),"
            " SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) FROM spans"
            f" WHERE input_tokens IS NOT NULL AND trace_id IN ({', '.join([mark] * len(part))})"
            " GROUP BY trace_id",
            part,
        ).all()
        for t, n_in, n_out, usd, unpriced in rows:
            n_in, n_out = int(n_in or 0), int(n_out or 0)
            usd = None if usd is None else float(usd)
            found.append((n_in, n_out, n_in + n_out, usd, int(unpriced or 0), t))
    if found:
        conn.exec_driver_sql(
            f"UPDATE runs SET input_tokens = {mark}, output_tokens = {mark},"
            f" total_tokens = {mark}, cost_usd = {mark}, unpriced_calls = {mark}"
            f" WHERE trace_id = {mark}",
            found,
        )


_GROUP_SQL = {
    "agent": "agent_name",
    "version": "agent_name, agent_version",
    "session": "session_id",
    "env": "env",
    "day": "start_ns / 86400000000000",
}


def group_key(group_by: str, row: Sequence[Any]) -> str | None:
    """The printable key of a totals row (its leading columns)."""
    if group_by == "version":
        name, version = row[0], row[1]
        return None if name is None else f"{name}@{version}" if version is not None else name
    if group_by == "day":
        return datetime.fromtimestamp(int(row[0]) * 86_400, tz=UTC).date().isoformat()
    return None if row[0] is None else str(row[0])


def check_group(group_by: str) -> str:
    if group_by not in COST_GROUPS:
        raise InputError(f"group_by: expected one of {', '.join(COST_GROUPS)}, got {group_by!r}")
    return group_by


class SqlCost(SqlBase):
    def cost_totals(
        self,
        group_by: str,
        *,
        agent_name: str | None = None,
        agent_digest: str | None = None,
        env: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        limit: int = 1000,
        project: str | None = None,
    ) -> list[CostTotal]:
        """Tokens and cost summed over runs per ``group_by`` (one of :data:`COST_GROUPS`),
        optionally of one agent, env and time range (of the runs' start), costliest first
        (by day: newest first); at most ``limit`` groups."""
        cols = _GROUP_SQL[check_group(group_by)]
        with self._read() as conn:
            mark = param_mark(conn)
            where, params = [], []
            for cond, value in (
                (f"agent_name = {mark}", agent_name),
                (f"agent_digest = {mark}", agent_digest),
                (f"env = {mark}", env),
                (f"start_ns >= {mark}", since_ns),
                (f"start_ns < {mark}", until_ns),
                (f"project = {mark}", project),
            ):
                if value is not None:
                    where.append(cond)
                    params.append(value)
            order = (
                "1 DESC"
                if group_by == "day"
                else "CASE WHEN SUM(cost_usd) IS NULL THEN 1 ELSE 0 END, SUM(cost_usd) DESC,"
                " COUNT(*) DESC"
            )
            rows = conn.exec_driver_sql(
                f"SELECT {cols}, COUNT(*), SUM(input_tokens), SUM(output_tokens),"
                " SUM(cost_usd), SUM(unpriced_calls), MAX(cost_usd) FROM runs"
                f"{' WHERE ' + ' AND '.join(where) if where else ''}"
                f" GROUP BY {cols} ORDER BY {order} LIMIT {int(limit)}",
                tuple(params),
            ).all()
        n_keys = cols.count(",") + 1
        return [
            CostTotal(
                key=group_key(group_by, r),
                runs=int(r[n_keys]),
                input_tokens=int(r[n_keys + 1] or 0),
                output_tokens=int(r[n_keys + 2] or 0),
                cost_usd=None if r[n_keys + 3] is None else float(r[n_keys + 3]),
                unpriced_calls=int(r[n_keys + 4] or 0),
                max_cost_usd=None if r[n_keys + 5] is None else float(r[n_keys + 5]),
            )
            for r in rows
        ]

    def unpriced_spans(self, after: tuple[str, str] | None = None, limit: int = 1000) -> list[Span]:
        """Spans with usage and no cost (never priced, or their model had no price), in
        (trace, span) order after ``after``: what ``agentdeck cost backfill`` prices."""
        from agentdeck.store.sql_traces import row_span

        with self._read() as conn:
            mark = param_mark(conn)
            cond, params = "", ()
            if after is not None:
                cond = f" AND (trace_id > {mark} OR (trace_id = {mark} AND span_id > {mark}))"
                params = (after[0], after[0], after[1])  # type: ignore[assignment]
            rows = conn.exec_driver_sql(
                f"SELECT * FROM spans WHERE input_tokens IS NOT NULL AND cost_usd IS NULL{cond}"
                f" ORDER BY trace_id, span_id LIMIT {int(limit)}",
                params,
            ).all()
        return [row_span(r) for r in rows]

    def set_span_costs(self, costs: Sequence[tuple[str, str, float]]) -> int:
        """Store the cost of spans ``(trace id, span id, usd)`` and recount their runs; the
        number of runs recounted."""
        if not costs:
            return 0
        with self._write() as conn:
            mark = param_mark(conn)
            conn.exec_driver_sql(
                f"UPDATE spans SET cost_usd = {mark} WHERE trace_id = {mark} AND span_id = {mark}",
                [(usd, t, s) for t, s, usd in costs],
            )
            traces = list(dict.fromkeys(t for t, _, _ in costs))
            recount_cost(conn, traces)
        return len(traces)
