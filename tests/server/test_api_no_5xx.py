"""Inputs that once answered 500 (found by the OpenAPI fuzzer, issue 16): each is now a 4xx whose
one-line error names the request part, on both backends, and the server keeps answering."""

from __future__ import annotations

import json

import orjson
import pytest
from demo_data import demo_run
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.registry.service import Registry
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk.wire import batch_to_dict, span_to_dict
from foundation import make_spec

HUGE = 2**64 + 1  # past every integer column and past orjson's 64-bit range


def _json(value: object) -> str:
    """JSON text whose integers may exceed 64 bits (orjson cannot write those)."""
    return json.dumps(value)


def _approval(**extra: object) -> dict[str, object]:
    return {
        "tool": "issue_refund",
        "args": {"amount": 10},
        "policy_name": "refunds",
        "policy_digest": "sha256:" + "0" * 64,
        **extra,
    }


def _still_answers(client: TestClient, keys: Keys) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/runs", headers=keys.header("read")).status_code == 200


def _refused(r: object, status: int, part: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    error = r.json()["error"]  # type: ignore[attr-defined]
    assert part in error and "\n" not in error, error


@pytest.mark.parametrize("offset", [str(2**63), str(HUGE), "99999999999999999999999999"])
def test_a_runs_offset_past_int64_is_a_400_naming_it(
    client: TestClient, keys: Keys, offset: str
) -> None:
    r = client.get("/api/v1/runs", params={"offset": offset}, headers=keys.header("read"))
    _refused(r, 400, "query.offset")
    r = client.get("/api/v1/runs", params={"version": offset}, headers=keys.header("read"))
    _refused(r, 400, "query.version")
    r = client.get("/api/v1/policies/p/" + offset, headers=keys.header("read"))
    _refused(r, 422, "path.version")
    params = {"agent": "a", "version": offset}
    r = client.get("/api/v1/scores", params=params, headers=keys.header("read"))
    _refused(r, 422, "query.version")
    _still_answers(client, keys)


@pytest.mark.parametrize(
    ("path", "params", "status", "part"),
    [
        ("/api/v1/agents/bot@99999999999999999999", {}, 404, "versions end at"),
        ("/api/v1/runs", {"since": "99999999999999999999999"}, 400, "query.since"),
        ("/api/v1/runs", {"until": "\u00b2"}, 400, "query.until"),
        ("/api/v1/runs", {"since": "9999-12-31T23:59:59"}, 400, "query.since"),
        ("/api/v1/deployments/at", {"agent": "a", "env": "e", "time": "9" * 30}, 400, "query.time"),
        ("/api/v1/findings", {"since": "9" * 25}, 400, "query.since"),
        ("/api/v1/monitors/window", {"agent": "a", "window": "99999999999w"}, 400, "query.window"),
        ("/api/v1/monitors/series", {"agent": "a", "window": "999999d"}, 400, "query.window"),
    ],
)
def test_a_reference_or_time_past_64_bits_is_a_4xx_naming_it(
    client: TestClient, keys: Keys, path: str, params: dict[str, str], status: int, part: str
) -> None:
    r = client.get(path, params=params, headers=keys.header("read"))
    _refused(r, status, part)
    _still_answers(client, keys)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/ui/registry/bot", {"a": "9" * 30, "b": "1"}),
        ("/ui/monitors", {"agent": "bot", "window": "99999999999w"}),
        ("/ui/runs", {"limit": "9" * 30}),
    ],
)
def test_ui_pages_given_out_of_range_numbers_do_not_answer_5xx(
    client: TestClient, keys: Keys, store: SqlStore, path: str, params: dict[str, str]
) -> None:
    """UI routes are outside the OpenAPI document the fuzzer reads; these are its findings there."""
    registry = Registry(store)
    registry.register_agent(make_spec("bot"), "test")
    registry.register_agent(make_spec("bot", prompt="Other."), "test")
    r = client.get(path, params=params, headers=keys.header("read"))
    assert r.status_code < 500, r.text[:300]
    _still_answers(client, keys)


def test_an_approval_sent_as_text_plain_is_a_415(client: TestClient, keys: Keys) -> None:
    r = client.post(
        "/api/v1/approvals",
        content=orjson.dumps(_approval()),
        headers={**keys.header("ingest"), "content-type": "text/plain"},
    )
    _refused(r, 415, "content-type")
    r = client.post(
        "/api/v1/approvals",
        content=b"tool=x",
        headers={**keys.header("ingest"), "content-type": "application/x-www-form-urlencoded"},
    )
    _refused(r, 415, "content-type")
    _still_answers(client, keys)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("policy_version", HUGE),
        ("agent_version", 2**63),
        ("args", {"amount": HUGE}),
        ("args", {"nested": [{"n": -(2**64)}]}),
    ],
)
def test_an_integer_past_64_bits_in_an_approval_is_a_4xx_naming_the_field(
    client: TestClient, keys: Keys, field: str, value: object
) -> None:
    text = _json(_approval(**{field: value}))
    r = client.post(
        "/api/v1/approvals",
        content=text.encode(),
        headers={**keys.header("ingest"), "content-type": "application/json"},
    )
    assert 400 <= r.status_code < 500, r.text
    assert f"body.{field}" in r.json()["error"], r.text
    _still_answers(client, keys)


def test_an_integer_past_64_bits_in_a_gate_setting_is_a_4xx_naming_it(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    text = json.dumps({"settings": {"eval_pass_rate": {"min": HUGE}}, "disabled": []})
    r = client.put(
        "/api/v1/envs/staging/gates",
        content=text.encode(),
        headers={**keys.header("admin"), "content-type": "application/json"},
    )
    assert 400 <= r.status_code < 500, r.text
    assert "body.settings.eval_pass_rate" in r.json()["error"], r.text
    assert "min: integer outside the 64-bit range" in r.json()["error"], r.text
    assert store.get_gate_config("staging").settings == {}
    _still_answers(client, keys)


@pytest.mark.parametrize(
    ("method", "path", "scope", "text"),
    [
        ("PUT", "/api/v1/envs/staging/gates", "admin", '{"settings": {"\\ud9f7": {}}}'),
        ("POST", "/api/v1/keys", "admin", '{"name": "k\\udc00", "scopes": ["read"]}'),
        ("POST", "/api/v1/deployments/promote", "deploy", '{"ref": "\\ud800", "env": "dev"}'),
    ],
)
def test_a_lone_surrogate_in_a_json_body_is_a_400(
    client: TestClient, keys: Keys, method: str, path: str, scope: str, text: str
) -> None:
    r = client.request(
        method,
        path,
        content=text.encode(),
        headers={**keys.header(scope), "content-type": "application/json"},
    )
    _refused(r, 400, "body: not valid JSON")
    assert "surrogate" in r.json()["error"]
    _still_answers(client, keys)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("name", "tool\u0000", "contains a NUL character"),
        ("error", "bad\u0000", "contains a NUL character"),
        ("name", "n" * 301, "longer than 300 characters"),
    ],
)
def test_a_span_text_the_database_cannot_hold_is_a_400_naming_it(
    client: TestClient, keys: Keys, field: str, value: str, words: str
) -> None:
    run, spans = demo_run()
    doc = batch_to_dict([run], spans)
    span_list = doc["spans"]
    assert isinstance(span_list, list) and isinstance(span_list[1], dict)
    span_list[1][field] = value
    r = client.post("/api/v1/ingest", content=orjson.dumps(doc), headers=keys.header("ingest"))
    _refused(r, 400, f"body.spans[1].{field}: {words}")
    _still_answers(client, keys)


def test_a_nul_inside_span_attributes_is_stored_as_json(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    run, spans = demo_run()
    doc = batch_to_dict([run], spans)
    span_list = doc["spans"]
    assert isinstance(span_list, list) and isinstance(span_list[1], dict)
    span_list[1]["attributes"] = {"raw": "a\u0000b"}
    r = client.post("/api/v1/ingest", content=orjson.dumps(doc), headers=keys.header("ingest"))
    assert r.status_code == 202, r.text
    got = client.get(f"/api/v1/runs/{run.trace_id}", headers=keys.header("read")).json()
    assert any(s["attributes"].get("raw") == "a\u0000b" for s in got["spans"])


def test_a_nul_in_a_json_body_is_a_400(client: TestClient, keys: Keys) -> None:
    body = '{"ref": "bot", "env": "dev", "reason": "x\\u0000"}'
    r = client.post(
        "/api/v1/deployments/promote",
        content=body.encode(),
        headers={**keys.header("deploy"), "content-type": "application/json"},
    )
    _refused(r, 400, "NUL character")
    # an escaped backslash followed by the text u0000 is not a NUL
    ok = '{"ref": "bot", "env": "dev", "reason": "x\\\\u0000"}'
    r = client.post(
        "/api/v1/deployments/promote",
        content=ok.encode(),
        headers={**keys.header("deploy"), "content-type": "application/json"},
    )
    assert r.status_code == 404 and "NUL" not in r.text, r.text
    _still_answers(client, keys)


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [200, 1000])
def test_an_ingest_body_nested_deep_is_a_400(client: TestClient, keys: Keys, depth: int) -> None:
    run, spans = demo_run()
    doc = batch_to_dict([run], spans)
    spans_json = doc["spans"]
    assert isinstance(spans_json, list)
    text = orjson.dumps(doc).decode()
    inner = "[" * depth + "1" + "]" * depth
    first = orjson.dumps(spans_json[0]).decode()
    deep = first.replace('"attributes":{', f'"attributes":{{"deep":{inner},', 1)
    body = text.replace(first, deep, 1).encode()
    r = client.post("/api/v1/ingest", content=body, headers=keys.header("ingest"))
    _refused(r, 400, "body")
    assert "nest" in r.json()["error"]
    _still_answers(client, keys)


@pytest.mark.parametrize(
    ("field", "value"),
    [("end_ns", 1e30), ("start_ns", 1e30), ("end_ns", -1e30), ("seq", 2**63)],
)
def test_a_span_time_past_int64_is_a_400_naming_the_field(
    client: TestClient, keys: Keys, store: SqlStore, field: str, value: float
) -> None:
    _run, spans = demo_run()
    span = span_to_dict(spans[1])
    span[field] = value
    body = (f'{{"v": 1, "runs": [], "spans": [{_json(span)}]}}').encode()
    r = client.post("/api/v1/ingest", content=body, headers=keys.header("ingest"))
    _refused(r, 400, f"body.spans[0].{field}")
    _still_answers(client, keys)


def test_a_run_time_past_int64_is_a_400_naming_the_field(client: TestClient, keys: Keys) -> None:
    run, _spans = demo_run()
    doc = batch_to_dict([run], [])
    runs = doc["runs"]
    assert isinstance(runs, list) and isinstance(runs[0], dict)
    runs[0]["end_ns"] = 1e30
    r = client.post("/api/v1/ingest", content=orjson.dumps(doc), headers=keys.header("ingest"))
    _refused(r, 400, "body.runs[0].end_ns")


def test_an_otlp_span_time_past_int64_is_a_400_naming_it(client: TestClient, keys: Keys) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes(range(1, 17)), bytes(range(1, 9)), "root"
    span.start_time_unix_nano, span.end_time_unix_nano = 1, 2**64 - 1
    r = client.post(
        "/v1/traces",
        content=request.SerializeToString(),
        headers={**keys.header("ingest"), "content-type": "application/json"},
    )
    assert r.status_code == 400  # a protobuf body sent as JSON
    r = client.post(
        "/v1/traces",
        content=request.SerializeToString(),
        headers={**keys.header("ingest"), "content-type": "application/x-protobuf"},
    )
    # a google.rpc.Status in protobuf, whose message names the span and field
    assert r.status_code == 400 and b"spans[0].end_ns" in r.content, r.content[:300]
    _still_answers(client, keys)


@pytest.fixture
def small_settings() -> ServerSettings:
    return ServerSettings(max_body_bytes=64 * 1024)


def test_every_route_that_takes_a_body_has_a_size_limit(client: TestClient, keys: Keys) -> None:
    big = b'{"spec": {"name": "x", "pad": "' + b"a" * (2 * 1024 * 1024) + b'"}}'
    for method, path, scope in [
        ("POST", "/api/v1/agents", "deploy"),
        ("POST", "/api/v1/lint", "read"),
        ("POST", "/api/v1/approvals", "ingest"),
        ("PUT", "/api/v1/envs/staging/gates", "admin"),
        ("POST", "/api/v1/keys", "admin"),
    ]:
        r = client.request(
            method,
            path,
            content=big,
            headers={**keys.header(scope), "content-type": "application/json"},
        )
        _refused(r, 413, "request body")
    _still_answers(client, keys)


def test_a_chunked_body_without_content_length_is_cut_at_the_limit(
    client: TestClient, keys: Keys
) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"spec": {"name": "x", "pad": "'
        for _ in range(64):
            yield b"a" * 65536
        yield b'"}}'

    r = client.post(
        "/api/v1/agents",
        content=chunks(),
        headers={**keys.header("deploy"), "content-type": "application/json"},
    )
    _refused(r, 413, "request body")


def test_ingest_keeps_its_larger_limit(client: TestClient, keys: Keys) -> None:
    run, spans = demo_run()
    doc = batch_to_dict([run], spans)
    runs = doc["runs"]
    assert isinstance(runs, list) and isinstance(runs[0], dict)
    runs[0]["attributes"] = {"pad": "a" * (3 * 1024 * 1024)}
    r = client.post("/api/v1/ingest", content=orjson.dumps(doc), headers=keys.header("ingest"))
    assert r.status_code == 202, r.text
