"""Names that producers send (agent, env) are printed as text, never read as Rich markup."""

from __future__ import annotations

import time

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, new_span_id, new_trace_id
from agentdeck.store import SqlStore
from foundation import Cli


def test_agent_and_env_names_with_brackets_print_literally(cli: Cli, store: SqlStore) -> None:
    tid, root, t0 = new_trace_id(), new_span_id(), time.time_ns()
    agent_attrs = {"agent.name": "[bold]bot[/bold]"}
    span = Span(tid, root, None, "[bold]bot[/bold]", SpanKind.AGENT, t0, t0 + 1_000_000, 0,
                SpanStatus.OK, attributes=agent_attrs)  # fmt: skip
    run = Run(trace_id=tid, agent_name="[bold]bot[/bold]", agent_version=None, agent_digest=None,
              env="[red]prod", deployment_id=None, start_ns=t0, end_ns=t0 + 1_000_000,
              status=SpanStatus.OK)  # fmt: skip
    store.write_batch([run], [span])
    table = cli("runs").out
    assert "[bold]bot[/bold]@?" in table and "[red]prod" in table
    tree = cli("trace", tid).out
    assert "[bold]bot[/bold]@?" in tree
