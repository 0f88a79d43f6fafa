"""Cost services: totals per group, a model's price, and pricing stored spans again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agentdeck.core.cost import (
    CostChange,
    CostTotal,
    ModelPrice,
    PriceSource,
    RunsCost,
    price_span,
)
from agentdeck.core.errors import InputError
from agentdeck.core.spec.diff import AgentDiff
from agentdeck.store.protocol import CostStore, TraceStore

__all__ = [
    "BackfillResult",
    "backfill_costs",
    "cost_totals",
    "eval_cost",
    "model_price",
    "version_cost",
    "version_cost_change",
]


def cost_totals(
    store: CostStore,
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
    """Tokens and cost per group of runs (the store checks ``group_by``)."""
    if not 1 <= limit <= 10_000:
        raise InputError(f"limit: expected 1..10000, got {limit}")
    return store.cost_totals(
        group_by,
        agent_name=agent_name,
        agent_digest=agent_digest,
        env=env,
        since_ns=since_ns,
        until_ns=until_ns,
        limit=limit,
        project=project,
    )


def model_price(prices: PriceSource, model: str, provider: str | None = None) -> ModelPrice:
    """The price of ``model`` today; an unknown model is an :class:`InputError` naming it."""
    name = model.strip()
    if not name:
        raise InputError("model: expected a model id, got ''")
    found = prices.price(name, provider)
    if found is None:
        where = f" (provider {provider})" if provider else ""
        raise InputError(
            f"model: no known price for {name!r}{where}; add it to AGENTDECK_PRICES_FILE"
        )
    return found


def version_cost(store: CostStore, ref: str, digest: str) -> RunsCost:
    """What the runs of one agent version (by digest, in any env) cost per run."""
    name = ref.split("@", 1)[0]
    rows = store.cost_totals("agent", agent_name=name, agent_digest=digest, limit=1)
    if not rows:
        return RunsCost(ref, 0, None, None)
    t = rows[0]
    return RunsCost(
        ref=ref,
        runs=t.runs,
        mean_cost_usd=t.mean_cost_usd,
        mean_tokens=t.total_tokens / t.runs if t.runs else None,
        unpriced_calls=t.unpriced_calls,
    )


def version_cost_change(store: CostStore, diff: AgentDiff) -> CostChange:
    """The cost change between the two versions of a diff (``agentdeck diff``)."""
    return CostChange(
        version_cost(store, diff.a_ref, diff.a_digest),
        version_cost(store, diff.b_ref, diff.b_digest),
    )


def eval_cost(store: TraceStore, ref: str, trace_ids: Sequence[str | None]) -> RunsCost:
    """What an eval result's runs cost per run (``eval --compare``)."""
    runs = [r for t in trace_ids if t and (r := store.get_run(t)) is not None]
    return RunsCost.of(
        ref,
        [r.cost_usd for r in runs],
        [r.total_tokens for r in runs],
        sum(r.unpriced_calls for r in runs),
    )


@dataclass(frozen=True)
class BackfillResult:
    spans_seen: int
    spans_priced: int
    runs_recounted: int


def backfill_costs(store: CostStore, prices: PriceSource, batch: int = 1000) -> BackfillResult:
    """Price the stored spans that have usage and no cost (stored before pricing existed, or
    whose model had no price then: an overrides file may know it now), and recount their
    runs; spans whose model is still unknown stay unpriced."""
    seen = priced = runs = 0
    after: tuple[str, str] | None = None
    while True:
        page = store.unpriced_spans(after=after, limit=batch)
        if not page:
            break
        seen += len(page)
        costs = []
        for s in page:
            cost = price_span(s, prices)
            if cost is not None and cost.usd is not None:
                costs.append((s.trace_id, s.span_id, cost.usd))
        priced += len(costs)
        runs += store.set_span_costs(costs)
        after = (page[-1].trace_id, page[-1].span_id)
    return BackfillResult(seen, priced, runs)
