"""``agentdeck cost``: tokens and USD per agent, version, session, env or day; a model's
price; pricing stored spans again (``backfill``)."""

from __future__ import annotations

from typing import Annotated

import typer

from agentdeck.cli.common import (
    DbOpt,
    JsonOpt,
    ProjectOpt,
    console,
    get_store,
    print_json,
    project_in,
)

app = typer.Typer(
    help="Tokens and cost (USD) of runs, per agent version, session, env or day.",
    no_args_is_help=False,
    invoke_without_command=True,
)


@app.callback(invoke_without_command=True)
def cost_cmd(
    ctx: typer.Context,
    by: Annotated[
        str, typer.Option("--by", help="Group runs by: agent, version, session, env or day.")
    ] = "version",
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's runs.")] = None,
    env: Annotated[str | None, typer.Option("--env", help="Only runs in this env.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Runs started since (ISO time or 1h, 7d).")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Runs started before.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many groups.")] = 50,
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """Tokens and cost summed over runs, per group, costliest first (per day: newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    from agentdeck.core.cost import COST_GROUPS, cost_text
    from agentdeck.core.errors import InputError
    from agentdeck.core.timeparse import parse_time_ns
    from agentdeck.records.serialize import cost_total_json
    from agentdeck.tracing.analysis.cost import cost_totals

    if by not in COST_GROUPS:
        raise InputError(f"--by: expected one of {', '.join(COST_GROUPS)}, got {by!r}")
    if not 1 <= limit <= 10_000:
        raise InputError(f"--limit: expected 1..10000, got {limit}")
    store = get_store(db)
    totals = cost_totals(
        store,
        by,
        agent_name=agent,
        env=env,
        since_ns=parse_time_ns(since, "--since") if since else None,
        until_ns=parse_time_ns(until, "--until") if until else None,
        limit=limit,
        project=project_in(store, project),
    )
    if json:
        print_json([cost_total_json(t, by) for t in totals])
        return
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"cost by {by} ({len(totals)})")
    for col in (by, "runs", "tokens", "cost", "per run"):
        t.add_column(col, justify="left" if col == by else "right")
    for row in totals:
        mean = row.mean_cost_usd
        t.add_row(
            escape(row.key or "-"),
            str(row.runs),
            f"{row.total_tokens:,}",
            cost_text(row.cost_usd, row.unpriced_calls),
            cost_text(mean, row.unpriced_calls) if mean is not None else "-",
        )
    if any(r.unpriced_calls for r in totals):
        t.caption = "+? / unpriced: calls of models with no known price (docs/cost.md)"
    console.print(t)


@app.command("price")
def price_cmd(
    model: Annotated[str, typer.Argument(help="A model id, as spans report it.")],
    provider: Annotated[
        str | None, typer.Option("--provider", help="The provider, when the id is ambiguous.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """A model's price today (USD per million tokens) and where it comes from; an unknown
    model is an error."""
    from agentdeck.core.cost import usd
    from agentdeck.prices import default_prices
    from agentdeck.records.serialize import model_price_json
    from agentdeck.tracing.analysis.cost import model_price

    p = model_price(default_prices(), model, provider)
    if json:
        print_json(model_price_json(p))
        return
    from rich.markup import escape

    parts = [f"input {usd(p.input.base)}", f"output {usd(p.output.base)}"]
    if p.cache_read is not None:
        parts.append(f"cached input {usd(p.cache_read.base)}")
    if p.reasoning is not None:
        parts.append(f"reasoning {usd(p.reasoning.base)}")
    tiers = " (tiered by input tokens)" if p.input.tiers else ""
    who = f"{p.provider}/{p.model}" if p.provider else p.model
    console.print(escape(f"{who}: {', '.join(parts)} per million tokens{tiers}; from {p.source}"))


@app.command("backfill")
def backfill_cmd(db: DbOpt = None, json: JsonOpt = False) -> None:
    """Price stored LLM spans that have no cost (stored before pricing, or of a model the
    prices file now knows) and recount their runs."""
    from agentdeck.prices import default_prices
    from agentdeck.tracing.analysis.cost import backfill_costs

    r = backfill_costs(get_store(db), default_prices())
    if json:
        print_json(
            {"spans_seen": r.spans_seen, "spans_priced": r.spans_priced, "runs": r.runs_recounted}
        )
        return
    console.print(
        f"priced {r.spans_priced} of {r.spans_seen} unpriced spans; {r.runs_recounted} runs"
        " recounted"
    )
