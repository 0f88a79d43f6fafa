"""The ``labels`` gate on both backends: labels given in a review queue to runs of the
candidate's exact digest must pass at ``labels.min_pass_rate`` (the newest label of a run
counts), with at least ``labels.min_labelled`` labelled runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdeck.composition import all_gates, deployments_service
from agentdeck.core.annotations.schema import parse_label_schema
from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.errors import GateBlocked
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.evals.review.gate import LabelGate
from agentdeck.evals.review.queues import create_queue, label_run
from agentdeck.registry.gates import GateContext
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from run_summary_data import _agent, record_runs

SCHEMA = parse_label_schema(
    {"labels": [{"name": "good", "pass": True}, {"name": "bad", "pass": False},
                {"name": "meh"}]}, "labels.yaml",
)  # fmt: skip


def _ctx(store: SqlStore, digest: str, settings: dict) -> GateContext:  # type: ignore[type-arg]
    """The recorded runs' agent (registered now: same spec, same digest) as the candidate."""
    cand, _ = Registry(store).register_agent(_agent().spec, "t")
    assert cand.digest == digest
    return GateContext(cand, "production", "staging", settings, store)


def test_the_gate_reads_the_labelled_pass_rate_of_the_digest(
    store: SqlStore, tmp_path: Path
) -> None:
    assert "labels" in [g.name for g in all_gates()]
    ids = record_runs(store, tmp_path)
    run = store.get_run(ids["clean"])
    assert run is not None and run.agent_digest is not None
    digest = run.agent_digest
    gate = LabelGate()
    assert gate.check(_ctx(store, digest, {})).passed  # nothing asked
    asked = {"labels": {"min_pass_rate": 0.6}}
    first = gate.check(_ctx(store, digest, asked))
    assert not first.passed and "0 labelled run(s)" in first.reason
    q = create_queue(store, "gate", SCHEMA, filters={}, by="t")
    label_run(store, q, ids["clean"], "good", by="ada")
    label_run(store, q, ids["denied"], "bad", by="ada")
    label_run(store, q, ids["tool_err"], "meh", by="ada")  # no pass: not counted
    half = gate.check(_ctx(store, digest, asked))
    assert not half.passed and "1/2 labelled runs" in half.reason and "below" in half.reason
    label_run(store, q, ids["denied"], "good", by="bob")  # the newest label of a run counts
    assert gate.check(_ctx(store, digest, asked)).passed
    more = gate.check(_ctx(store, digest, {"labels": {"min_pass_rate": 0.5, "min_labelled": 3}}))
    assert not more.passed and "fewer than labels.min_labelled 3" in more.reason


def test_the_gate_blocks_a_promotion_until_the_labels_pass(store: SqlStore, tmp_path: Path) -> None:
    ids = record_runs(store, tmp_path)
    Registry(store).register_agent(_agent().spec, "t")
    deploy = deployments_service(store)
    store.set_gate_config(
        GateConfig("dev", {"labels": {"min_pass_rate": 1.0}}),
        AuditEvent("t", "env.gates", "dev", {}),
    )
    with pytest.raises(GateBlocked, match="labels"):
        deploy.promote("support-bot@1", "dev", "t")
    q = create_queue(store, "gate", SCHEMA, filters={}, by="t")
    label_run(store, q, ids["clean"], "good", by="ada")
    assert deploy.promote("support-bot@1", "dev", "t").deployment.env == "dev"
