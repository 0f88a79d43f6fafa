"""Concurrent promotions and rollbacks into one env never interleave.

Each thread has its own ``SqlStore`` (its own engine and connections) on the same database, as
separate processes or server replicas would. Every operation must succeed or fail with an
agentdeck error; afterwards the env history is seq 1..N with each ``previous_id`` pointing at
the entry before it (no lost update), and the audit chain verifies.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agentdeck.core.deploy.model import Action, Deployment
from agentdeck.core.errors import AgentDeckError
from agentdeck.registry.audit import verify_audit
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.store.engine import create_store_engine
from foundation import make_spec, root_conftest

N = 20
StoreFactory = Callable[[], SqlStore]
Outcome = tuple[str, Deployment | AgentDeckError]


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[StoreFactory]:
    url = f"sqlite:///{tmp_path / 'concurrent.db'}"
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        opened.append(SqlStore(create_store_engine(url)))
        return opened[-1]

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def pg_factory(pg_schema: str, pytestconfig: pytest.Config) -> Iterator[StoreFactory]:
    pg_url = root_conftest(pytestconfig).PG_URL
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        opened.append(SqlStore(create_store_engine(pg_url, schema=pg_schema)))
        return opened[-1]

    yield make
    for s in opened:
        s.close()


def _run_concurrently(
    stores: list[SqlStore], ops: list[Callable[[Deployments], Deployment]]
) -> list[Outcome]:
    barrier = threading.Barrier(len(ops))

    def work(i: int) -> Outcome:
        svc = Deployments(stores[i])
        barrier.wait()
        try:
            return "ok", ops[i](svc)
        except AgentDeckError as exc:  # a clean failure; anything else propagates and fails
            return "error", exc

    with ThreadPoolExecutor(len(ops)) as pool:
        return list(pool.map(work, range(len(ops))))


def _assert_linear(store: SqlStore, outcomes: list[Outcome], already: int = 0) -> list[Deployment]:
    history = store.history("bot", "dev")
    assert [d.seq for d in history] == list(range(1, len(history) + 1))
    for before, after in itertools.pairwise(history):
        assert after.previous_id == before.id
    assert history[0].previous_id is None
    succeeded = [r for kind, r in outcomes if kind == "ok"]
    assert len(history) == already + len(succeeded)  # no lost update
    assert {d.id for d in succeeded} <= {d.id for d in history}  # type: ignore[union-attr]
    head = store.head("bot", "dev")
    assert head is not None and head.id == history[-1].id
    report = verify_audit(store)
    assert report.ok, report.problems
    deployment_entries = [
        e
        for e in store.audit_entries()
        if e.action.startswith("deployment.") and e.action != "deployment.mark"
    ]
    assert len(deployment_entries) == len(history)
    return history


def _promotions(factory: StoreFactory) -> None:
    setup = factory()
    reg = Registry(setup)
    for i in range(1, N + 1):
        reg.register_agent(make_spec(prompt=f"prompt {i}"))
    stores = [factory() for _ in range(N)]
    ops: list[Callable[[Deployments], Deployment]] = [
        (lambda svc, i=i: svc.promote(f"bot@{i}", "dev", f"worker-{i}").deployment)
        for i in range(1, N + 1)
    ]
    outcomes = _run_concurrently(stores, ops)
    history = _assert_linear(setup, outcomes)
    assert all(kind == "ok" for kind, _ in outcomes), [r for k, r in outcomes if k != "ok"]
    assert sorted(d.agent_version for d in history) == list(range(1, N + 1))


def _mixed(factory: StoreFactory) -> None:
    setup = factory()
    reg = Registry(setup)
    for i in range(1, N + 1):
        reg.register_agent(make_spec(prompt=f"prompt {i}"))
    svc = Deployments(setup)
    for i in (1, 2, 3):
        svc.promote(f"bot@{i}", "dev")
    stores = [factory() for _ in range(N)]
    ops: list[Callable[[Deployments], Deployment]] = []
    for i in range(N):
        if i % 2 == 0:
            ops.append(
                lambda s, i=i: s.promote(f"bot@{4 + i // 2}", "dev", f"promoter-{i}").deployment
            )
        elif i % 4 == 1:
            ops.append(lambda s, i=i: s.rollback("bot", "dev", f"rollbacker-{i}", to_ref="bot@1"))
        else:
            ops.append(lambda s, i=i: s.rollback("bot", "dev", f"rollbacker-{i}"))
    outcomes = _run_concurrently(stores, ops)
    history = _assert_linear(setup, outcomes, already=3)
    actions = {d.action for d in history[3:]}
    assert Action.ROLLBACK in actions and Action.DEPLOY in actions
    promoted = [
        r for (kind, r), i in zip(outcomes, range(N), strict=True) if i % 2 == 0 and kind == "ok"
    ]
    assert len(promoted) == N // 2  # promotions never fail: they retry on a lost compare-and-set


def test_twenty_concurrent_promotions_postgres(pg_factory: StoreFactory) -> None:
    _promotions(pg_factory)


def test_concurrent_rollbacks_and_promotions_postgres(pg_factory: StoreFactory) -> None:
    _mixed(pg_factory)


def test_twenty_concurrent_promotions_sqlite(sqlite_factory: StoreFactory) -> None:
    _promotions(sqlite_factory)


def test_concurrent_rollbacks_and_promotions_sqlite(sqlite_factory: StoreFactory) -> None:
    _mixed(sqlite_factory)


def test_compare_and_set_refuses_a_stale_head(sqlite_factory: StoreFactory) -> None:
    from dataclasses import replace

    from agentdeck.core.errors import ConflictError
    from agentdeck.core.spec.artifacts import AuditEvent

    store = sqlite_factory()
    Registry(store).register_agent(make_spec())
    svc = Deployments(store)
    first = svc.promote("bot@1", "dev").deployment
    svc.promote("bot@1", "dev")
    stale = replace(first, id="f" * 32, seq=2, previous_id=first.id)
    with pytest.raises(ConflictError, match="head moved"):
        store.append_deployment(stale, 1, AuditEvent("x", "deployment.promote", "bot@dev"))
    assert [d.seq for d in store.history("bot", "dev")] == [1, 2]
    assert verify_audit(store).ok
