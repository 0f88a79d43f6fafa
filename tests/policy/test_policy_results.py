"""Issue 15 point 5: rules read earlier calls' results (``run.calls[i].result``): captured
at call time, bounded and redacted; ``policy simulate`` reads the recorded ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from policy_support import policy_from, spans, start_sdk

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.policy.context import PriorCall, ToolCallContext
from agentdeck.core.policy.evaluate import RunEvaluator, compile_policy
from agentdeck.core.trace.model import SpanKind
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.policy_results import MAX_POLICY_RESULT_BYTES
from foundation import make_spec

# the example of docs/policies.md: a basic-economy cancellation needs insurance or a booking
# made within 24 h, as the earlier get_reservation_details result says
RULE = (
    'tool.name == "cancel_reservation" && !run.calls.exists(c, '
    'c.tool == "get_reservation_details" && c.outcome == "ok" '
    "&& c.result.reservation_id == args.reservation_id "
    '&& (c.result.cabin != "basic_economy" || c.result.insurance == "yes" '
    "|| c.result.hours_since_booking < 24))"
)
DOC = {
    "name": "cancellations",
    "default_effect": "allow",
    "rules": [
        {
            "id": "basic-economy-cancel",
            "when": RULE,
            "effect": "deny",
            "message": "basic economy: cancel only with insurance or within 24 h",
        }
    ],
}

BOOKINGS: dict[str, dict[str, Any]] = {}


@sdk.tool
def get_reservation_details(reservation_id: str) -> dict[str, Any]:
    return BOOKINGS[reservation_id]


@sdk.tool
def cancel_reservation(reservation_id: str) -> dict[str, Any]:
    return {"cancelled": reservation_id}


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=5)


def _booking(rid: str, insurance: str, hours: int, **more: Any) -> dict[str, Any]:
    return {
        "reservation_id": rid,
        "cabin": "basic_economy",
        "insurance": insurance,
        "hours_since_booking": hours,
        **more,
    }


def test_a_rule_reads_an_earlier_result_from_a_test_case() -> None:
    compiled = compile_policy(policy_from(DOC), "cancellations@1")

    def decide(result: dict[str, Any]) -> str:
        ctx = ToolCallContext.from_dict(
            {
                "tool": "cancel_reservation",
                "args": {"reservation_id": "R1"},
                "run": {
                    "calls": [
                        {
                            "tool": "get_reservation_details",
                            "args": {"reservation_id": "R1"},
                            "result": result,
                        }
                    ]
                },
            }
        )
        return compiled.decide(ctx).effect.value

    assert decide(_booking("R1", "no", 72)) == "deny"
    assert decide(_booking("R1", "yes", 72)) == "allow"
    assert decide(_booking("R1", "no", 3)) == "allow"
    assert decide(_booking("R2", "yes", 3)) == "deny"  # another reservation's lookup


def test_incremental_and_fresh_decisions_agree_on_results() -> None:
    compiled = compile_policy(policy_from(DOC), "cancellations@1")
    ev = RunEvaluator(compiled)
    history: list[PriorCall] = []
    for i, (ins, hours) in enumerate([("no", 72), ("yes", 72), ("no", 2)] * 5):
        rid = f"R{i}"
        history.append(
            PriorCall(
                "get_reservation_details", {"reservation_id": rid}, "ok", _booking(rid, ins, hours)
            )
        )
        got = ev.decide("cancel_reservation", {"reservation_id": rid}, history, {})
        fresh = compiled.decide(
            ToolCallContext("cancel_reservation", {"reservation_id": rid}, calls=tuple(history))
        )
        assert got.effect == fresh.effect
        assert got.effect.value == ("deny" if (ins, hours) == ("no", 72) else "allow")


def _register(store: SqlStore, doc: dict[str, Any] = DOC) -> None:
    reg = Registry(store)
    reg.register_policy(policy_from(doc), "test")
    reg.register_agent(make_spec("airline-bot", policy=f"{doc['name']}@1"), "test")


def test_the_sdk_guard_sees_the_result_captured_at_call_time(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    _register(sqlite_store)
    start_sdk(tmp_path, sqlite_store)
    BOOKINGS["R1"] = _booking("R1", "yes", 72)
    BOOKINGS["R2"] = _booking("R2", "no", 72)
    with sdk.run(agent="airline-bot@1"):
        get_reservation_details("R1")
        BOOKINGS["R1"]["insurance"] = "no"  # changed after the call: the rule saw "yes"
        assert cancel_reservation("R1") == {"cancelled": "R1"}
        get_reservation_details("R2")
        with pytest.raises(PolicyDenied) as info:
            cancel_reservation("R2")
        assert info.value.rules == ["basic-economy-cancel"]


def test_results_are_redacted_and_bounded_before_rules_read_them(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    doc = {
        "name": "peek",
        "default_effect": "allow",
        "rules": [
            {
                "id": "secret-seen",
                "when": 'tool.name == "cancel_reservation" && run.calls.exists('
                'c, c.tool == "get_reservation_details" && has(c.result.api_key) '
                '&& c.result.api_key == "sk-live-123")',
                "effect": "deny",
            },
            {
                "id": "big",
                "when": 'tool.name == "cancel_reservation" && run.calls.exists('
                'c, c.tool == "get_reservation_details" && has(c.result.truncated))',
                "effect": "warn",
            },
        ],
    }
    _register(sqlite_store, doc)
    sink = start_sdk(tmp_path, sqlite_store)
    BOOKINGS["R9"] = _booking("R9", "no", 72, api_key="sk-live-123")
    BOOKINGS["R8"] = _booking("R8", "no", 72, notes="x" * (MAX_POLICY_RESULT_BYTES + 10))
    with sdk.run(agent="airline-bot@1") as run:
        get_reservation_details("R9")
        cancel_reservation("R9")  # the rule never sees the key: it is masked, as in the trace
        get_reservation_details("R8")
        cancel_reservation("R8")
    decisions = spans(sink, run.trace_id, SpanKind.POLICY)
    # lookup R9, cancel R9 (the key was masked: no match), lookup R8, cancel R8 (truncated)
    assert [d.outputs["effect"] for d in decisions] == ["allow", "allow", "allow", "warn"]
    assert decisions[3].outputs["rules"] == ["big"]


def test_policy_simulate_reads_the_recorded_results(tmp_path: Path, store: SqlStore) -> None:
    from agentdeck.core.trace.query import RunQuery
    from agentdeck.policy.simulate import simulate

    sink = sdk.InMemorySink()
    sdk.init(sink=sink, spill_dir=tmp_path / "spill", schedule_delay=0.02)
    BOOKINGS["S1"] = _booking("S1", "yes", 72)
    BOOKINGS["S2"] = _booking("S2", "no", 72)
    BOOKINGS["S3"] = _booking("S3", "no", 5)
    for rid in ("S1", "S2", "S3"):
        with sdk.run(agent=make_spec("airline-bot")):
            get_reservation_details(rid)
            cancel_reservation(rid)
    assert sdk.flush(5)
    store.write_batch(sink.runs, sink.spans)
    sim = simulate(store, policy_from(DOC), RunQuery(agent_name="airline-bot"))
    cancels = {c.trace_id: c.effect.value for c in sim.calls if c.tool == "cancel_reservation"}
    by_rid = {r.trace_id: r.input for r in sink.runs}
    assert len(cancels) == 3
    denied = [t for t, e in cancels.items() if e == "deny"]
    assert len(denied) == 1 and all(cancels[t] == "allow" for t in cancels if t not in denied)
    ((_, spans_),) = store.get_runs_with_spans(denied)
    looked = next(s for s in spans_ if s.tool_name == "get_reservation_details")
    assert looked.outputs["result"]["reservation_id"] == "S2", by_rid
