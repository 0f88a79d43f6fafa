"""Reproducing a recorded run: served from the recording in order, or the first divergence."""

from __future__ import annotations

from typing import Any

import pytest
from replay_agents import agent_v1, shop
from replay_support import PATHS, record, register_both, shop_any_store, shop_store

from agentdeck.core.errors import InputError
from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.core.trace.model import SpanKind, SpanStatus
from agentdeck.registry.service import Registry
from agentdeck.store.protocol import Store
from agentdeck.tracing.replay.engine import REPLAY_OF_ATTR, is_replay, reproduce
from agentdeck.tracing.replay.report import DivergenceKind
from agentdeck.tracing.sdk import api as sdk

__all__ = ["shop_any_store", "shop_store"]


def _v1(store: Store) -> ResolvedAgent:
    return Registry(store).resolve("shop-bot@1")


def test_replay_reproduces_a_recorded_run_without_running_tools(shop_any_store: Store) -> None:
    source = record(_v1(shop_any_store), "refund ORD-1 20")
    live_before = list(shop.LIVE_CALLS)
    assert [name for name, _ in live_before] == ["lookup_order", "refund"]

    result = reproduce(shop_any_store, source[:12], paths=PATHS)

    assert result.reproduced, result.divergence
    assert (result.steps, result.served) == (5, 5)  # llm, lookup, llm, refund, llm
    assert result.source_trace_id == source and result.agent == "shop-bot@1"
    assert live_before == shop.LIVE_CALLS  # every tool answer came from the recording
    # The replay is a run of its own, marked as one, outside any environment.
    assert result.replay_trace_id is not None and result.replay_trace_id != source
    replay_run = shop_any_store.get_run(result.replay_trace_id)
    assert replay_run is not None and is_replay(replay_run)
    assert replay_run.attributes[REPLAY_OF_ATTR] == source and replay_run.env is None
    assert replay_run.output == "Done: refund ORD-1"
    tools = [s for s in shop_any_store.get_spans(result.replay_trace_id) if s.kind is SpanKind.TOOL]
    assert [t.attributes.get("tool.intercepted") for t in tools] == [True, True]
    # The report is stored.
    assert result.report_id is not None
    stored = shop_any_store.get_replay_report(result.report_id)
    assert stored is not None and (stored.kind, stored.outcome) == ("reproduce", "reproduced")
    assert stored.report["steps"] == 5
    listed = shop_any_store.list_replay_reports(source_trace_id=source)
    assert [r.id for r in listed] == [result.report_id]


def test_changed_tool_arguments_diverge_at_that_call(
    shop_any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = record(_v1(shop_any_store), "refund ORD-1 20")
    monkeypatch.setattr(agent_v1, "LOWERCASE_IDS", True)

    result = reproduce(shop_any_store, source, paths=PATHS)

    d = result.divergence
    assert d is not None and not result.reproduced
    assert (d.step, d.kind, d.path) == (2, DivergenceKind.TOOL_ARGS, "args.order_id")
    assert (d.expected, d.actual) == ("ORD-1", "ord-1")
    assert d.expected_call.startswith("lookup_order(") and "ord-1" in d.actual_call
    assert result.served == 1  # the first model call matched; the run stopped at step 2
    assert result.replay_trace_id is not None
    replay_run = shop_any_store.get_run(result.replay_trace_id)
    assert replay_run is not None and replay_run.status is SpanStatus.ERROR
    stored = shop_any_store.get_replay_report(result.report_id or "")
    assert stored is not None and stored.outcome == "diverged"
    assert stored.report["divergence"]["kind"] == "tool_args"


def test_changed_prompt_diverges_on_the_context_window(
    shop_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = record(_v1(shop_store), "status ORD-2")
    monkeypatch.setattr(agent_v1, "EXTRA_SYSTEM", " Be brief.")

    d = reproduce(shop_store, source, paths=PATHS, save=False).divergence

    assert d is not None
    assert (d.step, d.kind, d.path) == (1, DivergenceKind.MESSAGES, "messages[0].content")
    assert d.expected == "You are the shop assistant."
    assert d.actual == "You are the shop assistant. Be brief."


def test_agent_that_stops_early_misses_the_next_recorded_step(
    shop_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = record(_v1(shop_store), "refund ORD-1 20")

    def impatient(input: str, *, model: Any) -> str:
        from replay_agents.loop import agent_loop

        return agent_loop(input, model, tools=("lookup_order", "refund"),
                          system=agent_v1.SYSTEM, max_steps=1)  # fmt: skip

    monkeypatch.setattr(agent_v1, "run_agent", impatient)
    d = reproduce(shop_store, source, paths=PATHS, save=False).divergence

    assert d is not None and (d.step, d.kind) == (3, DivergenceKind.MISSING)
    assert d.expected_call.startswith("model call") and d.actual_call == "the run ended"


def test_agent_that_calls_more_than_recorded_reports_the_extra_call(
    shop_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = record(_v1(shop_store), "status ORD-2")

    def double_check(input: str, *, model: Any) -> str:
        out = agent_v1.agent_loop(
            input, model, tools=("lookup_order", "refund"), system=agent_v1.SYSTEM
        )
        shop.lookup_order("ORD-2")  # a new verification step after the answer
        return out

    monkeypatch.setattr(agent_v1, "run_agent", double_check)
    d = reproduce(shop_store, source, paths=PATHS, save=False).divergence

    assert d is not None and (d.step, d.kind) == (4, DivergenceKind.EXTRA)
    assert d.expected_call == "the run ended" and d.actual_call.startswith("lookup_order(")


def test_a_changed_final_output_is_a_divergence_after_the_last_step(
    shop_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = record(_v1(shop_store), "status ORD-2")
    original = agent_v1.run_agent
    monkeypatch.setattr(
        agent_v1, "run_agent", lambda input, *, model: original(input, model=model) + "!"
    )

    d = reproduce(shop_store, source, paths=PATHS, save=False).divergence

    assert d is not None and (d.step, d.kind, d.path) == (4, DivergenceKind.OUTPUT, "output")
    assert (d.expected, d.actual) == ("Done: status ORD-2", "Done: status ORD-2!")


def test_an_errored_tool_call_replays_as_the_recorded_error(shop_store: Store) -> None:
    source = record(_v1(shop_store), "refund ORD-404 5")
    recorded = [s for s in shop_store.get_spans(source) if s.kind is SpanKind.TOOL]
    assert [(s.status, s.error) for s in recorded] == [
        (SpanStatus.ERROR, "KeyError: 'no order ORD-404'")
    ]
    shop.LIVE_CALLS.clear()

    result = reproduce(shop_store, source, paths=PATHS)

    # The agent saw the same exception text, so the next context window matched too.
    assert result.reproduced, result.divergence
    assert shop.LIVE_CALLS == []
    assert result.replay_trace_id is not None
    replayed = [s for s in shop_store.get_spans(result.replay_trace_id) if s.kind is SpanKind.TOOL]
    assert [(s.status, s.error) for s in replayed] == [
        (SpanStatus.ERROR, "KeyError: 'no order ORD-404'")
    ]


def test_a_run_that_names_no_registered_version_cannot_be_replayed(shop_store: Store) -> None:
    with sdk.run(input="anonymous") as handle:
        pass
    assert sdk.flush(10)
    with pytest.raises(InputError, match="no agent digest"):
        reproduce(shop_store, handle.trace_id, paths=PATHS)


def test_an_unknown_run_id_is_an_input_error(shop_store: Store) -> None:
    with pytest.raises(InputError, match="no run with that id"):
        reproduce(shop_store, "0123456789abcdef0123456789abcdef", paths=PATHS)


def test_replay_configures_and_shuts_down_its_own_recording_session(
    sqlite_store: Store, tmp_path: Any
) -> None:
    from replay_support import start_recording

    v1, _ = register_both(sqlite_store)
    start_recording(sqlite_store, tmp_path)
    source = record(v1, "status ORD-2")
    sdk.shutdown(10)

    result = reproduce(sqlite_store, source, paths=PATHS)

    from agentdeck.tracing.sdk import recorder

    assert recorder.config is None  # the session it opened is closed again
    assert result.reproduced and result.replay_trace_id is not None
    assert sqlite_store.get_run(result.replay_trace_id) is not None
