"""Round trip: the SDK sends a run to an in-memory sink and, as OTLP out, to our own receiver
(``/v1/traces`` of the app served in a thread, on SQLite and PostgreSQL); what the receiver
stores is the same run and the same spans as the SDK recorded (names, kinds, inputs, outputs,
usage, session and user), although the OTLP spans carry the GenAI names."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from server_support import make_keys

import agentdeck
from agentdeck.core.trace.model import Run, Span, TokenUsage
from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.sink import InMemorySink
from app_thread import serve_in_thread
from tracing.test_sdk_otlp_out import _agent

pytestmark = pytest.mark.slow


class Boom(Exception):
    pass


@sdk.tool
def lookup_order(order_id: str) -> dict[str, str]:
    return {"order_id": order_id, "state": "shipped"}


@sdk.tool
def send_email(to: str) -> str:
    raise Boom(f"no mailbox {to!r}")


@pytest.fixture
def served(store: SqlStore) -> Iterator[tuple[str, dict[str, str]]]:
    keys = make_keys(store)
    url, stop = serve_in_thread(create_app(store))
    try:
        yield url, keys.header("ingest")
    finally:
        stop()


def _no_nulls(span: Span) -> Span:
    """OTLP attributes cannot be null: an attribute set to None does not travel."""
    return replace(span, attributes={k: v for k, v in span.attributes.items() if v is not None})


def _normal_run(run: Run) -> Run:
    # counted by the store, not the SDK: errors, denials, tokens and cost
    return replace(run, tool_errors=0, denied_calls=0, input_tokens=0, output_tokens=0,
                   cost_usd=0.0, unpriced_calls=0)  # fmt: skip


def test_sdk_run_round_trips_through_our_receiver(
    store: SqlStore, served: tuple[str, dict[str, str]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    url, headers = served
    primary = InMemorySink()
    agentdeck.init(sink=primary, otlp_endpoint=url, otlp_headers=headers, env="production",
                   enforce_policies=False, spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
    try:
        with sdk.run(_agent(), input={"q": "where is A-1?"}, session_id="conv-9",
                     user_id="ada") as r:  # fmt: skip
            with sdk.llm(messages=[{"role": "user", "content": "where is A-1?"}],
                         model="gpt-4o", params={"temperature": 0.2}) as c:  # fmt: skip
                c.record(message={"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "name": "lookup_order", "arguments": {"order_id": "A-1"}}]},
                    usage=TokenUsage(30, 7))  # fmt: skip
            lookup_order("A-1")
            with contextlib.suppress(Boom):
                send_email("nobody")
            r.set_output("shipped")
        assert agentdeck.flush(20)
    finally:
        sdk.shutdown(timeout=10)
    trace_id = r.trace_id
    stored_run, stored_spans = store.get_run(trace_id), store.get_spans(trace_id)
    sent_run = primary.run(trace_id)
    assert stored_run is not None and sent_run is not None
    assert (stored_run.session_id, stored_run.user_id) == ("conv-9", "ada")
    assert _normal_run(stored_run) == _normal_run(sent_run)
    assert stored_run.tool_errors == 1
    key = lambda s: s.span_id  # noqa: E731
    sent = sorted((_no_nulls(s) for s in primary.trace(trace_id)), key=key)
    assert [s.name for s in sent] == [s.name for s in sorted(stored_spans, key=key)]
    # the store prices each model call at ingest (cost_usd); the SDK's spans carry no price
    assert [replace(s, cost_usd=None) for s in sorted(stored_spans, key=key)] == sent
    assert {"lookup_order", "send_email"} <= {s.name for s in stored_spans}  # not execute_tool X
