"""Cost: tokens and USD summed over runs per agent, version, session, env or day; a model's
price (an unknown model is a 404 naming it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agentdeck.core.cost import COST_GROUPS
from agentdeck.core.errors import InputError
from agentdeck.records.serialize import cost_total_json, model_price_json
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.serialize import time_ns
from agentdeck.tracing.analysis.cost import cost_totals, model_price

router = APIRouter(prefix="/api/v1/cost", tags=["cost"])


class UnknownModel(InputError):
    http_status = 404


@router.get("", summary="Tokens and cost (USD) per agent, version, session, env or day")
def list_cost(
    state: State,
    principal: ReadKey,
    group_by: str = Query("version", description=f"One of {', '.join(COST_GROUPS)}."),
    agent: str | None = Query(None, description="Only this agent's runs."),
    env: str | None = Query(None, description="Only runs in this env."),
    since: str | None = Query(None, description="Runs started since (ISO 8601 or ns)."),
    until: str | None = Query(None, description="Runs started before (ISO 8601 or ns)."),
    limit: int = Query(100, description="At most this many groups (1..10000)."),
) -> list[dict[str, Any]]:
    if group_by not in COST_GROUPS:
        raise InputError(
            f"query.group_by: expected one of {', '.join(COST_GROUPS)}, got {group_by!r}"
        )
    if not 1 <= limit <= 10_000:
        raise InputError(f"query.limit: expected 1..10000, got {limit}")
    totals = cost_totals(
        state.store,
        group_by,
        agent_name=agent or None,
        env=env or None,
        since_ns=time_ns(since or None, "query.since"),
        until_ns=time_ns(until or None, "query.until"),
        limit=limit,
        project=principal.project,
    )
    return [cost_total_json(t, group_by) for t in totals]


@router.get("/price/{model:path}", summary="A model's price today (USD per million tokens)")
def get_price(
    model: str, _: ReadKey, provider: str | None = Query(None, description="The provider.")
) -> dict[str, Any]:
    from agentdeck.prices import default_prices

    try:
        return model_price_json(model_price(default_prices(), model, provider))
    except InputError as exc:
        raise UnknownModel(f"path.model: {exc}".replace("model: ", "", 1)) from None
