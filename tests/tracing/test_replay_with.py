"""Replaying another version against recorded runs: side-by-side actions, misses, live tools,
and behavioural agreement over several runs."""

from __future__ import annotations

from typing import Any

import pytest
from replay_agents import shop
from replay_agents.scripted import ScriptedModel
from replay_support import PATHS, record, shop_any_store, shop_store

from agentdeck.core.errors import UnresolvedReferenceError
from agentdeck.core.trace.model import SpanKind
from agentdeck.core.trace.model_call import ModelResponse, ToolCall
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.store.protocol import Store
from agentdeck.tracing.replay.engine import agreement, compare, recent_runs, reproduce
from agentdeck.tracing.replay.report import Action, RowStatus, Served

__all__ = ["shop_any_store", "shop_store"]


def _record_v1(store: Store, question: str) -> str:
    return record(Registry(store).resolve("shop-bot@1"), question)


def test_with_v2_serves_matching_calls_and_reports_the_miss(shop_any_store: Store) -> None:
    source = _record_v1(shop_any_store, "refund ORD-1 20")
    shop.LIVE_CALLS.clear()

    c = compare(shop_any_store, source, "shop-bot@2", paths=PATHS)

    assert (c.recorded_agent, c.candidate_agent) == ("shop-bot@1", "shop-bot@2")
    assert [(r.status, r.candidate.served if r.candidate else None) for r in c.rows] == [
        (RowStatus.MATCH, Served.RECORDING),
        (RowStatus.MATCH, Served.RECORDING),
        (RowStatus.CANDIDATE_ONLY, Served.MISS),
    ]
    miss = c.rows[2].candidate
    assert miss is not None
    assert miss.action == Action("notify", {"to": "ann@example.com", "text": "Refunded 20"})
    assert not c.agreed and c.similarity == pytest.approx(2 / 3)
    assert c.count(Served.MISS) == 1 and c.count(Served.RECORDING) == 2
    assert (
        shop.LIVE_CALLS == []
    )  # nothing ran: matches came from the recording, the miss was refused
    assert c.candidate_output == "Done: refund ORD-1" and c.candidate_error is None
    # The candidate's replay is recorded, and its miss is visible there as a failed tool call.
    assert c.replay_trace_id is not None
    tools = [s for s in shop_any_store.get_spans(c.replay_trace_id) if s.kind is SpanKind.TOOL]
    assert [(t.name, t.status.value) for t in tools] == [
        ("lookup_order", "ok"),
        ("refund", "ok"),
        ("notify", "error"),
    ]
    assert "no recorded call" in (tools[2].error or "")
    stored = shop_any_store.get_replay_report(c.report_id or "")
    assert stored is not None and (stored.kind, stored.outcome) == ("with", "disagreed")
    assert stored.score == pytest.approx(2 / 3)
    assert [r["status"] for r in stored.report["rows"]] == ["match", "match", "candidate_only"]


def test_live_tools_runs_the_unmatched_calls_for_real(shop_store: Store) -> None:
    source = _record_v1(shop_store, "refund ORD-1 20")
    shop.LIVE_CALLS.clear()

    c = compare(shop_store, source, "shop-bot@2", paths=PATHS, live_tools=True, save=False)

    assert shop.LIVE_CALLS == [("notify", {"to": "ann@example.com", "text": "Refunded 20"})]
    assert [x.served for x in c.candidate] == [Served.RECORDING, Served.RECORDING, Served.LIVE]
    assert c.report_id is None


class _Generous(ScriptedModel):
    """Refunds 5 more than asked: same tools, different arguments."""

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
                 params: dict[str, Any]) -> ModelResponse:  # fmt: skip
        reply = super().complete(messages, tools, params)
        calls = [ToolCall(c.id, c.name, {**c.arguments, "amount": c.arguments["amount"] + 5})
                 if c.name == "refund" else c for c in reply.tool_calls]  # fmt: skip
        return ModelResponse.assistant(reply.content, calls, model="generous-1")


def test_different_arguments_pair_up_as_a_difference(shop_store: Store) -> None:
    source = _record_v1(shop_store, "refund ORD-1 20")

    c = compare(shop_store, source, "shop-bot@1", paths=PATHS, model=_Generous(), save=False)

    assert [r.status for r in c.rows] == [RowStatus.MATCH, RowStatus.DIFFER]
    differ = c.rows[1]
    assert differ.recorded == Action("refund", {"order_id": "ORD-1", "amount": 20.0})
    assert differ.candidate is not None and differ.candidate.served is Served.MISS
    assert differ.candidate.action.args == {"order_id": "ORD-1", "amount": 25.0}
    assert not c.agreed and c.similarity == pytest.approx(1 / 2)


def test_the_same_version_agrees_with_its_own_recording(shop_store: Store) -> None:
    source = _record_v1(shop_store, "refund ORD-1 20")
    c = compare(shop_store, source, "shop-bot@1", paths=PATHS, save=False)
    assert c.agreed and c.similarity == 1.0
    assert [r.status for r in c.rows] == [RowStatus.MATCH, RowStatus.MATCH]


def test_a_recorded_error_is_served_to_the_candidate(shop_store: Store) -> None:
    source = _record_v1(shop_store, "refund ORD-404 5")
    shop.LIVE_CALLS.clear()

    c = compare(shop_store, source, "shop-bot@2", paths=PATHS, save=False)

    assert [x.served for x in c.candidate] == [Served.RECORDED_ERROR]
    assert c.agreed and shop.LIVE_CALLS == []
    assert c.candidate_output == "Sorry, 'no order ORD-404'"


def test_agreement_over_several_runs(shop_any_store: Store) -> None:
    ids = [
        _record_v1(shop_any_store, "refund ORD-1 20"),  # v2 adds a notify: disagrees
        _record_v1(shop_any_store, "status ORD-2"),  # same single lookup: agrees
        _record_v1(shop_any_store, "refund ORD-404 5"),  # lookup fails in both: agrees
    ]
    seen: list[tuple[int, int]] = []

    report = agreement(shop_any_store, ids, "shop-bot@2", paths=PATHS,
                       progress=lambda done, total: seen.append((done, total)))  # fmt: skip

    assert report.agreement == pytest.approx(2 / 3)
    assert report.mean_similarity == pytest.approx((2 / 3 + 1 + 1) / 3)
    assert [c.source_trace_id for c in report.disagreements] == [ids[0]]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    same = agreement(shop_any_store, ids, "shop-bot@1", paths=PATHS, save=False)
    assert same.agreement == 1.0 and same.disagreements == ()
    stored = shop_any_store.get_replay_report(report.report_id or "")
    assert stored is not None and stored.kind == "agreement" and stored.source_trace_id is None
    assert stored.score == pytest.approx(2 / 3)
    assert stored.report["disagreements"] == [ids[0]]
    assert [r.id for r in shop_any_store.list_replay_reports(kind="agreement")] == [
        report.report_id
    ]


def test_recent_runs_are_the_deployed_versions_runs_without_replays(shop_store: Store) -> None:
    assert recent_runs(shop_store, "shop-bot") == []  # nothing deployed yet
    Deployments(shop_store, gates=[]).promote("shop-bot@1", "production")
    prod = Registry(shop_store).resolve("shop-bot@production")
    first = record(prod, "status ORD-2")
    second = record(prod, "refund ORD-1 20")
    _record_v1(shop_store, "status ORD-2")  # no environment: not a production run
    reproduce(shop_store, first, paths=PATHS, save=False)  # a replay: never counted

    assert set(recent_runs(shop_store, "shop-bot", limit=10)) == {first, second}
    assert len(recent_runs(shop_store, "shop-bot", limit=1)) == 1


def test_an_unknown_candidate_is_a_reference_error(shop_store: Store) -> None:
    source = _record_v1(shop_store, "status ORD-2")
    with pytest.raises(UnresolvedReferenceError):
        compare(shop_store, source, "shop-bot@9", paths=PATHS)
