"""Ingest sampling on both backends: every failed run keeps its spans; of the successful ones,
the fraction whose id hash falls under ``sampling.success_fraction`` (deterministic); a dropped
run keeps its runs-list row and its monitoring summary; an env's setting overrides the server's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from demo_data import demo_run
from fastapi.testclient import TestClient
from server_support import Keys, make_keys
from sqlalchemy import select

from agentdeck.core.annotations.sampling import keep_in_full, sampled_in
from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.errors import InputError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.trace.model import Outcome, Run, SpanStatus
from agentdeck.evals.datasets.add_run import add_to_stored
from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore
from agentdeck.store.tables_monitor import run_summaries
from agentdeck.tracing.sdk.wire import batch_to_bytes


@pytest.fixture
def sampled(store: SqlStore) -> Iterator[tuple[TestClient, Keys]]:
    settings = ServerSettings(sampling_success_fraction=0.3)
    with TestClient(create_app(store, settings)) as c:
        yield c, make_keys(store)


def _ingest(client: TestClient, keys: Keys, pairs: list[tuple[Run, list[Any]]]) -> None:
    body = batch_to_bytes([r for r, _ in pairs], [s for _, ss in pairs for s in ss])
    resp = client.post("/api/v1/ingest", content=body, headers=keys.header("ingest"))
    assert resp.status_code == 202, resp.text
    assert client.app.state.agentdeck.after_ingest.drain(30)  # type: ignore[attr-defined]


def test_failed_runs_are_always_kept_and_a_fraction_of_the_rest(
    sampled: tuple[TestClient, Keys], store: SqlStore
) -> None:
    client, keys = sampled
    ok = [demo_run(env="production") for _ in range(40)]
    bad = [demo_run(env="production", fail=True) for _ in range(10)]
    _ingest(client, keys, ok + bad)
    for run, spans in bad:
        assert len(store.get_spans(run.trace_id)) == len(spans)
    kept = {r.trace_id for r, _ in ok if sampled_in(r.trace_id, 0.3, "sampling")}
    assert 0 < len(kept) < len(ok)  # the 40 ids straddle the fraction
    dropped = {r.trace_id for r, _ in ok} - kept
    for run, spans in ok:
        got = store.get_spans(run.trace_id)
        assert len(got) == (len(spans) if run.trace_id in kept else 0)
        assert store.get_run(run.trace_id) is not None  # the row stays in the runs list
    assert store.sampled_out([r.trace_id for r, _ in ok + bad]) == dropped
    with store.engine.connect() as conn:  # summarized before the spans went
        summarized = set(conn.execute(select(run_summaries.c.trace_id)).scalars())
    assert dropped <= summarized
    listed = client.get("/api/v1/runs", params={"limit": 100}, headers=keys.header("read"))
    assert len(listed.json()) == 50
    stats = client.app.state.agentdeck.after_ingest.stats  # type: ignore[attr-defined]
    assert stats.sampled_out == len(dropped) and stats.errors == 0
    one = next(iter(dropped))
    with pytest.raises(InputError, match="dropped by ingest sampling"):
        add_to_stored(store, one, "prod", by="t")


def test_an_env_setting_overrides_the_server_fraction(
    sampled: tuple[TestClient, Keys], store: SqlStore
) -> None:
    client, keys = sampled
    store.set_gate_config(
        GateConfig("staging", {"sampling": {"success_fraction": 1.0}}),
        AuditEvent("t", "env.gates", "staging", {}),
    )
    staging = [demo_run(env="staging") for _ in range(15)]
    _ingest(client, keys, staging)
    assert store.sampled_out([r.trace_id for r, _ in staging]) == set()


def test_the_keep_rule() -> None:
    base = Run("a" * 32, "bot", 1, None, "production", None, 0, 1, SpanStatus.OK)
    tid = next(f"{i:032x}" for i in range(1000) if not sampled_in(f"{i:032x}", 0.5, "sampling"))
    ok = Run(tid, "bot", 1, None, "production", None, 0, 1, SpanStatus.OK)
    assert not keep_in_full(ok, 0.5) and not keep_in_full(ok, 0.0)
    for failed in (
        Run(tid, "bot", 1, None, None, None, 0, 1, SpanStatus.ERROR),
        Run(tid, "bot", 1, None, None, None, 0, 1, SpanStatus.OK, outcome=Outcome.FAILURE),
        Run(tid, "bot", 1, None, None, None, 0, 1, SpanStatus.OK, tool_errors=1),
        Run(tid, "bot", 1, None, None, None, 0, 1, SpanStatus.OK, denied_calls=2),
    ):
        assert keep_in_full(failed, 0.0)
    assert keep_in_full(base, 1.0)
    ids = [f"{i:032x}" for i in range(2000)]
    share = sum(sampled_in(t, 0.25, "sampling") for t in ids) / len(ids)
    assert 0.2 < share < 0.3
    assert [sampled_in(t, 0.25, "s") for t in ids] == [sampled_in(t, 0.25, "s") for t in ids]


def test_an_env_may_sample_when_the_server_keeps_everything(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    store.set_gate_config(
        GateConfig("production", {"sampling": {"success_fraction": 0.0}}),
        AuditEvent("t", "env.gates", "production", {}),
    )
    prod_ok, prod_bad = demo_run(env="production"), demo_run(env="production", fail=True)
    dev_ok = demo_run(env="dev")
    _ingest(client, keys, [prod_ok, prod_bad, dev_ok])
    assert store.sampled_out([r.trace_id for r, _ in (prod_ok, prod_bad, dev_ok)]) == {
        prod_ok[0].trace_id
    }
    assert len(store.get_spans(prod_bad[0].trace_id)) == len(prod_bad[1])
