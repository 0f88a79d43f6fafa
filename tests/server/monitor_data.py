"""Demo-like traffic for the monitoring pages and API: runs whose tool mix and error rate shift.

``seed_history`` writes, for one agent in one env, a calm hour (the baseline's runs) followed by
an hour whose second half drifts: the agent escalates far more often, passes invalid arguments
and fails more. Runs are spread evenly in time so each chart bucket has enough of them.
"""

from __future__ import annotations

import random
import time
from typing import Any

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, new_span_id, new_trace_id
from agentdeck.store.protocol import TraceStore

MS = 1_000_000
CALM = {"lookup_order": 0.6, "issue_refund": 0.3, "escalate": 0.1}
DRIFTED = {"lookup_order": 0.25, "issue_refund": 0.15, "escalate": 0.6}


def tool_run(
    rng: random.Random,
    mix: dict[str, float],
    start_ns: int,
    *,
    agent: str = "support-bot",
    env: str = "production",
    version: int = 1,
    error_p: float = 0.02,
    invalid_p: float = 0.01,
) -> tuple[Run, list[Span]]:
    """One run: an agent span and two or three tool calls drawn from ``mix``."""
    tid = new_trace_id()
    root = new_span_id()
    failed = rng.random() < error_p
    status = SpanStatus.ERROR if failed else SpanStatus.OK
    tools = rng.choices(list(mix), weights=list(mix.values()), k=rng.choice((2, 3)))
    spans = [
        Span(
            tid,
            root,
            None,
            agent,
            SpanKind.AGENT,
            start_ns,
            start_ns + 90 * MS,
            0,
            status,
            "tool failed" if failed else None,
            inputs={"input": "Where is my order?"},
            attributes={"agent.name": agent, "agent.version": version},
        )
    ]
    for i, tool in enumerate(tools, 1):
        t0 = start_ns + i * 20 * MS
        valid = rng.random() >= invalid_p
        args: dict[str, Any] = {"order_id": f"A-{rng.randint(1, 999)}"}
        spans.append(
            Span(
                tid,
                new_span_id(),
                root,
                tool,
                SpanKind.TOOL,
                t0,
                t0 + 15 * MS,
                i,
                SpanStatus.OK,
                None,
                inputs={"args": args},
                outputs={"result": {"status": "ok", "order_id": args["order_id"]}},
                attributes={"tool.name": tool, "tool.args_valid": valid},
            )
        )
    run = Run(tid, agent, version, None, env, None, start_ns, start_ns + 90 * MS, status,
              "tool failed" if failed else None, input="Where is my order?",
              output=None if failed else "Done.", root_span_id=root)  # fmt: skip
    return run, spans


def history(
    now_ns: int | None = None, per_hour: int = 480, seed: int = 7, **kw: Any
) -> list[tuple[Run, list[Span]]]:
    """Two hours of runs ending at ``now_ns``: the first hour calm, then half an hour calm and
    half an hour drifted (escalations, invalid arguments, errors)."""
    rng = random.Random(seed)
    now = now_ns if now_ns is not None else time.time_ns()
    hour = 3600 * 10**9
    step = hour // per_hour
    out = []
    for i in range(2 * per_hour):
        start = now - 2 * hour + i * step + step // 2
        drifted = start >= now - hour // 2
        out.append(
            tool_run(
                rng,
                DRIFTED if drifted else CALM,
                start,
                error_p=0.3 if drifted else 0.02,
                invalid_p=0.25 if drifted else 0.01,
                **kw,
            )
        )
    return out


def seed_history(store: TraceStore, now_ns: int | None = None, **kw: Any) -> int:
    """Write :func:`history` into ``store``; returns the time it ends at (ns)."""
    now = now_ns if now_ns is not None else time.time_ns()
    runs = history(now, **kw)
    store.write_batch([r for r, _ in runs], [s for _, spans in runs for s in spans])
    return now
