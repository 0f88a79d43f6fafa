"""Custom eval checks for the support bot's suite (``check: support_bot.checks:NAME``)."""

from __future__ import annotations

from agentdeck.core.evals.suite import CheckContext


def refund_within_order_amount(ctx: CheckContext) -> bool | str:
    """Every refund is at most the amount of the order it refunds (read from lookup_order)."""
    totals = {
        c.args.get("order_id"): c.result.get("amount")
        for c in ctx.calls
        if c.tool == "lookup_order" and isinstance(c.result, dict)
    }
    for c in ctx.calls:
        if c.tool != "issue_refund":
            continue
        total = totals.get(c.args.get("order_id"))
        if total is None:
            return f"refund for {c.args.get('order_id')} without a lookup of that order"
        if float(c.args.get("amount", 0)) > float(total):
            return f"refund {c.args.get('amount')} exceeds the order amount {total}"
    return True
