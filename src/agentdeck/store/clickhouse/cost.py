"""Tokens and cost in ClickHouse: a run's sums from its spans, and totals per group (the
semantics of :mod:`agentdeck.store.sql_cost`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentdeck.core.cost import CostTotal
from agentdeck.store.clickhouse.seam import ChConnection
from agentdeck.store.sql_cost import check_group, group_key

__all__ = ["CostSums", "cost_sums", "cost_totals"]

CostSums = tuple[int, int, float | None, int]
"""(input tokens, output tokens, USD or None when nothing was priced, unpriced calls)."""
NO_USAGE: CostSums = (0, 0, 0.0, 0)

_GROUP = {
    "agent": ("agent_name",),
    "version": ("agent_name", "agent_version"),
    "session": ("session_id",),
    "env": ("env",),
    "day": ("intDiv(start_ns, 86400000000000)",),
}


def cost_sums(conn: ChConnection, spans: str, trace_ids: Sequence[str]) -> dict[str, CostSums]:
    """The sums of the spans with usage of each trace (those without: absent)."""
    found: dict[str, CostSums] = {}
    for i in range(0, len(trace_ids), 1000):
        rows = conn.rows(
            "SELECT trace_id, sum(input_tokens) AS i, sum(ifNull(output_tokens, 0)) AS o,"
            " sum(cost_usd) AS c, countIf(cost_usd IS NULL) AS u, countIf(cost_usd IS NOT NULL)"
            f" AS p FROM {spans} FINAL WHERE input_tokens IS NOT NULL"
            " AND trace_id IN {ids:Array(String)} GROUP BY trace_id",
            {"ids": list(trace_ids[i : i + 1000])},
        )
        for r in rows:
            usd = float(r["c"]) if int(r["p"]) else None
            found[r["trace_id"]] = (int(r["i"]), int(r["o"]), usd, int(r["u"]))
    return found


def cost_totals(
    conn: ChConnection,
    runs: str,
    group_by: str,
    *,
    agent_name: str | None,
    agent_digest: str | None,
    env: str | None,
    since_ns: int | None,
    until_ns: int | None,
    limit: int,
) -> list[CostTotal]:
    cols = _GROUP[check_group(group_by)]
    where: list[str] = []
    params: dict[str, Any] = {"lim": limit}
    for cond, key, value in (
        ("agent_name = {agent:String}", "agent", agent_name),
        ("agent_digest = {digest:String}", "digest", agent_digest),
        ("env = {env:String}", "env", env),
        ("start_ns >= {since:Int64}", "since", since_ns),
        ("start_ns < {until:Int64}", "until", until_ns),
    ):
        if value is not None:
            where.append(cond)
            params[key] = value
    keys = ", ".join(f"{c} AS k{i}" for i, c in enumerate(cols))
    group = ", ".join(f"k{i}" for i in range(len(cols)))
    order = "k0 DESC" if group_by == "day" else "isNull(c), c DESC, n DESC"
    rows = conn.rows(
        f"SELECT {keys}, count() AS n, sum(input_tokens) AS i, sum(output_tokens) AS o,"
        " sumOrNull(cost_usd) AS c, sum(unpriced_calls) AS u, maxOrNull(cost_usd) AS mx"
        f" FROM {runs} FINAL{' WHERE ' + ' AND '.join(where) if where else ''}"
        f" GROUP BY {group} ORDER BY {order} LIMIT {{lim:UInt32}}",
        params,
    )
    return [
        CostTotal(
            key=group_key(group_by, [r[f"k{i}"] for i in range(len(cols))]),
            runs=int(r["n"]),
            input_tokens=int(r["i"] or 0),
            output_tokens=int(r["o"] or 0),
            cost_usd=None if r["c"] is None else float(r["c"]),
            unpriced_calls=int(r["u"] or 0),
            max_cost_usd=None if r["mx"] is None else float(r["mx"]),
        )
        for r in rows
    ]
