"""A canary's audited steps read back, on both backends: ``Canaries.events`` (what
``agentdeck history`` lists beside the deployments) and ``Canaries.at`` (what ``agentdeck at``
says of a moment while a canary was in progress)."""

from __future__ import annotations

from datetime import datetime, timedelta

from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.registry.canary import Canaries
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from foundation import make_spec


def _canaries(store: SqlStore) -> Canaries:
    reg = Registry(store)
    for i in (1, 2):
        reg.register_agent(make_spec(prompt=f"prompt {i}"))
    deps = Deployments(store, reg)
    deps.set_gate_config(GateConfig("production", {}, ("previous-env",)), "tester")
    deps.promote("bot@1", "production")
    return Canaries(store, deps)


def test_the_steps_of_a_canary_and_the_moments_it_was_in_progress(store: SqlStore) -> None:
    svc = _canaries(store)
    store.append_audit(AuditEvent("x", "deployment.canary.start", "bot_x@production", {}))
    c = svc.start("bot@2", "production", 10, "alice")
    svc.pause("bot", "production", "bob", "INC-1")
    svc.abort("bot", "production", "bob", "INC-1")
    svc.start("bot@2", "production", 25, "carol")
    events = svc.events("bot", "production")  # not bot_x's: the subject is matched exactly
    assert [(e.what, e.share, e.actor) for e in events] == [
        ("start", 10.0, "alice"),
        ("pause", 10.0, "bob"),
        ("abort", 0.0, "bob"),
        ("start", 25.0, "carol"),
    ]
    assert events[0].canary_id == c.id and events[0].candidate_version == 2
    assert events[0].candidate_digest == c.candidate_digest and events[2].reason == "INC-1"
    tick = timedelta(microseconds=1)
    assert svc.at("bot", "production", events[0].at - tick) is None  # before it started
    during = svc.at("bot", "production", events[1].at)
    assert during is not None and during.start == events[0] and during.share == 10.0
    assert during.end == events[2]  # how it ended: aborted, by bob
    assert svc.at("bot", "production", events[2].at) is None  # ended: none in progress
    now = svc.at("bot", "production", events[3].at + timedelta(hours=1))
    assert now is not None and now.share == 25.0 and now.end is None  # still in progress
    assert isinstance(now.start.at, datetime) and now.start.at.tzinfo is not None


def test_a_shadow_is_said_to_be_one_at_the_moments_it_was(store: SqlStore) -> None:
    svc = _canaries(store)
    svc.start("bot@2", "production", 10, "alice", shadow=True)
    (start,) = svc.events("bot", "production")
    assert start.shadow
    found = svc.at("bot", "production", start.at)
    assert found is not None and found.shadow and found.end is None
