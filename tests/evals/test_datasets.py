"""Datasets from production: a recorded run becomes an eval case (input, recorded tool
responses as fixtures, expectation from feedback or typed), which the eval runner then passes
or fails as expected; on SQLite and PostgreSQL, in a suite file and in a stored suite."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest_helpers import EXAMPLE

from agentdeck.core.errors import ConflictError, InputError
from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.core.trace.feedback import FeedbackSource
from agentdeck.evals.datasets.add_run import add_to_file, add_to_stored, stored_suite
from agentdeck.evals.runner import EvalService, load_suite
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.analysis.feedback import record_feedback
from agentdeck.tracing.replay.entrypoint import run_entrypoint
from agentdeck.tracing.sdk import api as sdk

REFUND = (
    "My mug from order ORD-1000 arrived broken, I'd like a refund of 40 EUR. "
    "My email is omar.kim@example.com"
)


def production_run(reg: Registry, text: str, label: str) -> str:
    """Run support-bot@1 on ``text`` (real tools), then give it feedback ``label``."""
    v = reg.get("support-bot@1")
    agent = ResolvedAgent(v.name, v.version, v.digest, v.spec)
    run = run_entrypoint(agent, text, paths=[EXAMPLE])
    assert run.error is None and sdk.flush(timeout=30)
    record_feedback(
        reg.store,  # type: ignore[arg-type]
        run.trace_id,
        score=None,
        label=label,
        comment="reviewed",
        by="ada",
        source=FeedbackSource.HUMAN,
    )
    return run.trace_id


def test_a_good_run_added_to_a_suite_file_passes_with_recorded_responses(
    store: SqlStore, recording: Registry, tmp_path: Path
) -> None:
    from support_bot import shop

    tid = production_run(recording, REFUND, "thumbs_up")
    recorded = {s.name: s for s in store.get_spans(tid) if s.kind == "tool"}
    refunds = len(shop.LEDGER.refunds)
    path = tmp_path / "from-prod.yaml"
    added = add_to_file(store, tid[:10], path, paths=[str(EXAMPLE)])
    assert added.trace_id == tid and path.exists()
    case = yaml.safe_load(path.read_text())["cases"][0]
    assert case["input"] == REFUND
    assert [c["tool"] for c in case["expect"]["calls"]] == [
        "lookup_order", "verify_identity", "issue_refund", "send_email"
    ]  # fmt: skip
    # the recorded responses are the fixtures: the refund tool is not run again
    result, runs = EvalService(store).run(load_suite(path), "support-bot@1", actor="t")
    assert result.passed == 1 and result.total == 1, runs[0].verdict.reasons
    assert len(shop.LEDGER.refunds) == refunds
    served = runs[0].calls_to("issue_refund")[0].result
    assert served == recorded["issue_refund"].outputs["result"]
    # a second run appended to the same file keeps the file's first case and validates
    with pytest.raises(ConflictError, match="has a case"):
        add_to_file(store, tid, path)


def test_a_bad_run_needs_an_expectation_and_then_fails_the_eval(
    store: SqlStore, recording: Registry, tmp_path: Path
) -> None:
    tid = production_run(recording, REFUND, "thumbs_down")
    path = tmp_path / "suite.yaml"
    with pytest.raises(InputError, match=r"--expect: run \w+: its outcome is failure"):
        add_to_file(store, tid, path)
    assert not path.exists()  # nothing written
    with pytest.raises(InputError, match=r"--expect"):
        add_to_file(store, tid, path, expect={"not_called": [{"tool": ""}]})
    add_to_file(store, tid, path, expect={"not_called": ["issue_refund"]}, paths=[str(EXAMPLE)])
    result, runs = EvalService(store).run(load_suite(path), "support-bot@1", actor="t")
    assert result.passed == 0
    assert any("issue_refund must not be called" in r for r in runs[0].verdict.reasons)


def test_a_stored_suite_runs_like_a_file(store: SqlStore, recording: Registry) -> None:
    good = production_run(recording, REFUND, "thumbs_up")
    added = add_to_stored(store, good, "prod-cases", by="ada")
    assert added.where == "stored" and store.dataset_names() == [("prod-cases", 1)]
    with pytest.raises(ConflictError):
        add_to_stored(store, good, "prod-cases", by="ada")
    with pytest.raises(InputError, match="--suite: a suite name"):
        add_to_stored(store, good, "Prod Cases", by="ada")
    suite = stored_suite(store, "prod-cases")
    result, _ = EvalService(store).run(suite, "support-bot@1", actor="t", paths=[EXAMPLE])
    assert result.passed == result.total == 1
    assert store.audit_entries()[-2].action == "suite.add_run"
