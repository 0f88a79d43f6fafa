"""Helpers for the monitoring service tests: synthetic runs written to a store at given times."""

from __future__ import annotations

import random
from dataclasses import replace

from synthetic_runs import Scenario, generate_run

from agentdeck.core.trace.model import Run, Span
from agentdeck.store.protocol import Store

HOUR_NS = 3600 * 10**9


def timed_runs(
    n: int,
    seed: int,
    start_ns: int,
    spacing_ns: int = 10**9,
    scenario: Scenario = Scenario(),
    env: str = "production",
    digest: str | None = None,
    attributes: dict[str, str] | None = None,
) -> tuple[list[Run], list[Span]]:
    """``n`` synthetic runs starting ``spacing_ns`` apart from ``start_ns``."""
    r = random.Random(seed)
    runs: list[Run] = []
    spans: list[Span] = []
    for i in range(n):
        run, sp = generate_run(r, scenario)
        shift = start_ns + i * spacing_ns - run.start_ns
        assert run.end_ns is not None
        runs.append(
            replace(
                run,
                start_ns=run.start_ns + shift,
                end_ns=run.end_ns + shift,
                env=env,
                agent_digest=digest,
                attributes=attributes or {},
            )
        )
        spans.extend(replace(s, start_ns=s.start_ns + shift, end_ns=s.end_ns + shift) for s in sp)
    return runs, spans


def store_runs(store: Store, *args: object, **kw: object) -> list[Run]:
    runs, spans = timed_runs(*args, **kw)  # type: ignore[arg-type]
    store.write_batch(runs, spans)
    return runs
