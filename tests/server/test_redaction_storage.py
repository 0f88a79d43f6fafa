"""Redaction before storage: a key passed in tool args (or a bearer token in a message) never
reaches the database, through the SDK ingest route and the OTLP receiver alike, for data from
producers that did not redact (another SDK, an OpenTelemetry exporter)."""

from __future__ import annotations

import orjson
import pytest
from demo_data import demo_run
from fastapi.testclient import TestClient
from server_support import Keys
from sqlalchemy import select

from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore
from agentdeck.store.tables import metadata
from agentdeck.tracing.sdk.wire import batch_to_bytes
from tracing.otel_fixtures import record
from tracing.redaction_corpus import AWS_SECRET, JWT, PASSWORD, PEM

SECRET = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
EMAIL = "carol@example.org"


def _dump_database(store: SqlStore) -> str:
    """Every row of every table, as text."""
    parts = []
    with store.engine.connect() as conn:
        for table in metadata.tables.values():
            parts.extend(str(tuple(r)) for r in conn.execute(select(table)))
    return "\n".join(parts)


def test_a_key_in_tool_args_never_reaches_the_database(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    run, spans = demo_run(
        tool_args={"order_id": "A-1", "api_key_hint": f"use {SECRET}", "note": EMAIL}
    )
    r = client.post(
        "/api/v1/ingest", content=batch_to_bytes([run], spans), headers=keys.header("ingest")
    )
    assert r.status_code == 202
    dump = _dump_database(store)
    assert SECRET not in dump and "[REDACTED:api_keys]" in dump
    assert EMAIL in dump  # e-mail masking is optional and off by default
    tool = next(s for s in store.get_spans(run.trace_id) if s.kind.value == "tool")
    assert tool.inputs["args"]["order_id"] == "A-1"  # the rest of the args is kept


def test_otlp_spans_are_redacted_with_optional_groups(store: SqlStore, keys: Keys) -> None:
    def build(tracer: object) -> None:
        with tracer.start_as_current_span(  # type: ignore[attr-defined]
            "execute_tool notify",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "notify",
                "gen_ai.tool.call.arguments": orjson.dumps(
                    {"to": EMAIL, "auth": f"Bearer {SECRET}"}
                ).decode(),
            },
        ):
            pass

    request, _ = record(build)
    settings = ServerSettings(redact=("api_keys", "bearer", "email"))
    with TestClient(create_app(store, settings)) as client:
        r = client.post(
            "/v1/traces",
            content=request.SerializeToString(),
            headers={**keys.header("ingest"), "Content-Type": "application/x-protobuf"},
        )
    assert r.status_code == 200
    dump = _dump_database(store)
    assert "notify" in dump and SECRET not in dump and EMAIL not in dump
    assert "[REDACTED:email]" in dump


def test_redaction_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDECK_REDACT", "api_keys,card")
    monkeypatch.setenv("AGENTDECK_REDACT_PATTERNS", '{"ticket": "TCK-[0-9]+"}')
    red = ServerSettings.from_env().redactor()
    assert red.text("TCK-991 4111111111111111 Bearer abcdefghijk") == (
        "[REDACTED:ticket] [REDACTED:card] Bearer abcdefghijk"
    )
    monkeypatch.setenv("AGENTDECK_REDACT", "phone")
    with pytest.raises(Exception, match="AGENTDECK_REDACT"):
        ServerSettings.from_env()


# What the server's redactor used to miss: AWS secret access keys, JWTs, PEM private-key blocks
# and ``password=...`` inside a string.
MISSED = (AWS_SECRET, JWT, PASSWORD, PEM.splitlines()[2])


def test_secrets_the_server_used_to_miss_never_reach_the_database(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    run, spans = demo_run(
        tool_args={
            "order_id": "A-1",
            "env": f"aws_secret_access_key={AWS_SECRET}",
            "session": JWT,
            "conn": f"login password={PASSWORD} ok",
            "key_file": PEM,
        }
    )
    r = client.post(
        "/api/v1/ingest", content=batch_to_bytes([run], spans), headers=keys.header("ingest")
    )
    assert r.status_code == 202
    dump = _dump_database(store)
    assert [s for s in MISSED if s in dump] == []
    assert "A-1" in dump and "[REDACTED:private_key]" in dump and "[REDACTED:jwt]" in dump


def test_otlp_spans_from_other_producers_are_redacted_by_default(
    client: TestClient, store: SqlStore, keys: Keys
) -> None:
    def build(tracer: object) -> None:
        with tracer.start_as_current_span(  # type: ignore[attr-defined]
            "execute_tool deploy",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "deploy",
                "gen_ai.tool.call.arguments": orjson.dumps(
                    {
                        "key": PEM,
                        "jwt": JWT,
                        "cfg": f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}",
                        "password": PASSWORD,
                    }
                ).decode(),
            },
        ):
            pass

    request, _ = record(build)
    r = client.post(
        "/v1/traces",
        content=request.SerializeToString(),
        headers={**keys.header("ingest"), "Content-Type": "application/x-protobuf"},
    )
    assert r.status_code == 200
    dump = _dump_database(store)
    assert "deploy" in dump and [s for s in MISSED if s in dump] == []


def test_extra_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDECK_REDACT_KEYS", "member_no, ssn")
    red = ServerSettings.from_env().redactor()
    assert red.value({"memberNo": "M-1", "SSN": "123", "name": "x"}) == {
        "memberNo": "[REDACTED:key]",
        "SSN": "[REDACTED:key]",
        "name": "x",
    }
