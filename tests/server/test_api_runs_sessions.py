"""Sessions and users on runs, through the API and the web UI, on both backends: runs recorded
by the SDK with ``session_id``/``user_id`` and OTLP traces whose session and user are on child
spans only (sent children first, root last, and the other way round) are listed with them,
filtered by ``session_id``/``user_id``, shown on the runs page and the run page; a too long
filter value is a 400 naming the parameter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import Tracer
from server_support import Keys

from agentdeck.store import SqlStore
from session_data import record_session_runs
from tracing.otel_fixtures import record


def _otel_agent(tracer: Tracer) -> None:
    """A GenAI agent whose conversation id is on the model call and whose user (OpenInference
    ``user.id``) is on the tool call: neither on the root."""
    with tracer.start_as_current_span(
        "invoke_agent helper",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "helper"},
    ):
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.conversation.id": "conv-otel",
            },
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool lookup",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "lookup",
                "user.id": "carol",
            },
        ):
            pass


def _listed(client: TestClient, keys: Keys, query: str) -> list[str]:
    resp = client.get(f"/api/v1/runs?{query}", headers=keys.header("read"))
    assert resp.status_code == 200, resp.text
    return [r["trace_id"] for r in resp.json()]


def test_sdk_runs_are_filtered_by_session_and_user(
    client: TestClient, keys: Keys, store: SqlStore, tmp_path: Path
) -> None:
    ids = record_session_runs(store, tmp_path)
    assert set(_listed(client, keys, "session_id=conv-a")) == {ids["a1"], ids["a2"]}
    assert _listed(client, keys, "user_id=bob") == [ids["b1"]]
    assert _listed(client, keys, "session_id=conv-a&user_id=bob") == []
    assert len(_listed(client, keys, "session_id=&user_id=")) == 4  # empty: no filter
    one = client.get(f"/api/v1/runs/{ids['a1']}", headers=keys.header("read")).json()
    assert (one["run"]["session_id"], one["run"]["user_id"]) == ("conv-a", "alice")
    root = next(s for s in one["spans"] if s["parent_id"] is None)
    assert (root["attributes"]["session.id"], root["attributes"]["user.id"]) == ("conv-a", "alice")
    none = client.get(f"/api/v1/runs/{ids['none']}", headers=keys.header("read")).json()["run"]
    assert (none["session_id"], none["user_id"]) == (None, None)


@pytest.mark.parametrize("root_first", [False, True])
def test_otlp_session_and_user_come_from_any_span_in_any_order(
    client: TestClient, keys: Keys, root_first: bool
) -> None:
    _, spans = record(_otel_agent)
    root = next(s for s in spans if s.parent is None)
    children = [s for s in spans if s.parent is not None]
    headers = {**keys.header("ingest"), "content-type": "application/x-protobuf"}
    parts = [[root], *([c] for c in children)] if root_first else [*([c] for c in children), [root]]
    for part in parts:
        resp = client.post(
            "/v1/traces", content=encode_spans(part).SerializeToString(), headers=headers
        )
        assert resp.status_code == 200, resp.text
    trace_id = f"{root.context.trace_id:032x}"
    run = client.get(f"/api/v1/runs/{trace_id}", headers=keys.header("read")).json()["run"]
    assert run["provisional"] is False and run["agent_name"] == "helper"
    assert (run["session_id"], run["user_id"]) == ("conv-otel", "carol")
    assert _listed(client, keys, "session_id=conv-otel") == [trace_id]
    assert _listed(client, keys, "user_id=carol") == [trace_id]


def test_ui_filters_and_shows_session_and_user(
    client: TestClient, keys: Keys, store: SqlStore, tmp_path: Path
) -> None:
    ids = record_session_runs(store, tmp_path)
    read = keys.header("read")
    page = client.get("/ui/runs?session_id=conv-b", headers=read)
    assert page.status_code == 200, page.text
    listed = set(re.findall(r'data-trace-id="(\w+)"', page.text))
    assert listed == {ids["b1"]}
    assert 'id="f-session" value="conv-b"' in page.text
    assert '<a href="/ui/runs?user_id=bob">bob</a>' in page.text
    page = client.get("/ui/runs?user_id=alice", headers=read)
    assert set(re.findall(r'data-trace-id="(\w+)"', page.text)) == {ids["a1"], ids["a2"]}
    run_page = client.get(f"/ui/runs/{ids['a1']}", headers=read).text
    assert re.search(r'id="run-session"[^>]*>conv-a</a>', run_page)
    assert re.search(r'id="run-user"[^>]*>alice</a>', run_page)


@pytest.mark.parametrize("part", ["session_id", "user_id"])
def test_too_long_filter_is_a_400_naming_it(client: TestClient, keys: Keys, part: str) -> None:
    resp = client.get(f"/api/v1/runs?{part}={'x' * 201}", headers=keys.header("read"))
    assert resp.status_code == 400, resp.text
    assert f"query.{part}" in resp.text
