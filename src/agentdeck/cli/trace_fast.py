"""``agentdeck trace RUN_ID`` (the tree and ``--json``) without Typer, pydantic or SQLAlchemy: a
fast read path of :mod:`.fast` (which says when they step aside). The run is loaded by the
full command's :func:`~agentdeck.tracing.analysis.queries.load_trace` over the read-only
SQLite reads of :class:`~agentdeck.store.lite_traces.LiteTraces`, and printed through the same
renderer (:mod:`.trace_render`) and serializers. tests/cli/test_fast_reads.py compares both."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentdeck.cli.fast import command_line, read_store

if TYPE_CHECKING:
    import sqlite3

__all__ = ["try_trace"]


def try_trace(argv: list[str]) -> bool:
    """``agentdeck trace ARGV`` (True: printed; False: nothing printed)."""
    line = command_line(argv, {"--db": "db"}, {"--json": "json"}, 1)
    if line is None:
        return False
    parsed, path = line
    from agentdeck.core.errors import AgentDeckError
    from agentdeck.store.lite_projects import project_exists
    from agentdeck.store.lite_traces import LiteTraces
    from agentdeck.tracing.analysis.queries import RunTrace, load_trace

    def read(conn: sqlite3.Connection) -> RunTrace | None:
        if not project_exists(conn, "default"):
            return None
        return load_trace(LiteTraces(conn), parsed.args[0], "default")

    trace = read_store(path, read, (AgentDeckError,))  # errors: the full command says them
    if trace is None:
        return False
    if parsed.opts.get("json"):
        from agentdeck.cli.console import print_json
        from agentdeck.tracing.analysis.queries import execution_graph, run_json
        from agentdeck.tracing.sdk.wire import span_to_dict

        print_json(
            {
                "run": run_json(trace.run) if trace.run else None,
                "spans": [span_to_dict(s) for s in trace.spans],
                "graph": execution_graph(trace),
            }
        )
        return True
    from rich.tree import Tree

    from agentdeck.cli.console import console
    from agentdeck.cli.trace_render import add_span, trace_title

    tree = Tree(trace_title(trace.trace_id, trace.run))
    for root in trace.roots:
        add_span(tree, root)
    console.print(tree)
    return True
