"""A run as the API and ``agentdeck runs --json`` show it: one function for the server, the
CLI and the CLI's SQLite read paths (:mod:`agentdeck.cli.fast`), so it imports only the
run model and the wire shape."""

from __future__ import annotations

from typing import Any

from agentdeck.core.trace.model import Run
from agentdeck.tracing.sdk.wire import run_to_dict


def run_json(run: Run) -> dict[str, Any]:
    """A run as the API and ``agentdeck runs --json`` show it: the wire shape
    (:func:`~agentdeck.tracing.sdk.wire.run_to_dict`, with the summary: ``status``,
    ``tool_errors``, ``denied_calls``, ``outcome``...) plus ``provisional`` (derived from child
    spans only, the root span has not arrived), spelled out so that clients need not know the
    attribute that marks it, and the tokens and cost the store summed at ingest
    (``cost_usd`` null: no call was priced; ``unpriced_calls``: calls of models with no known
    price). Not part of the wire format: ingest does not read them back."""
    return {
        **run_to_dict(run),
        "provisional": run.provisional,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "total_tokens": run.total_tokens,
        "cost_usd": run.cost_usd,
        "unpriced_calls": run.unpriced_calls,
    }
