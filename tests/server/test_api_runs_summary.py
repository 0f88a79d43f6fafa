"""What happened in a run, through the API and the web UI, on both backends: ``GET
/api/v1/runs`` filters on status, tool errors, denials and outcome and returns them; bad filter
values are 400s naming the parameter; the runs page has the filters and the columns, and the run
page marks a failed eval as failed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.store import SqlStore
from run_summary_data import record_runs


@pytest.fixture
def ids(store: SqlStore, tmp_path: Path) -> dict[str, str]:
    return record_runs(store, tmp_path)


def _listed(client: TestClient, keys: Keys, query: str) -> set[str]:
    resp = client.get(f"/api/v1/runs?{query}", headers=keys.header("read"))
    assert resp.status_code == 200, resp.text
    return {r["trace_id"] for r in resp.json()}


def test_runs_api_filters_on_what_happened(
    client: TestClient, keys: Keys, ids: dict[str, str]
) -> None:
    assert _listed(client, keys, "status=error") == {ids["raised"]}
    assert _listed(client, keys, "has_errors=true") == {ids["tool_err"], ids["denied"]}
    assert _listed(client, keys, "has_errors=false") == {ids["clean"], ids["raised"]}
    assert _listed(client, keys, "denied=true") == {ids["denied"]}
    assert _listed(client, keys, "denied=false&status=ok") == {ids["clean"], ids["tool_err"]}
    assert _listed(client, keys, "outcome=success") == {ids["clean"]}
    assert _listed(client, keys, "outcome=failure&has_errors=true") == {ids["tool_err"]}
    assert _listed(client, keys, "has_errors=&denied=&outcome=") == set(ids.values())


def test_runs_api_returns_the_summary(client: TestClient, keys: Keys, ids: dict[str, str]) -> None:
    read = keys.header("read")
    rows = {r["trace_id"]: r for r in client.get("/api/v1/runs", headers=read).json()}
    got = {
        n: (r["status"], r["tool_errors"], r["denied_calls"], r["outcome"])
        for n, r in ((n, rows[t]) for n, t in ids.items())
    }
    assert got == {
        "clean": ("ok", 0, 0, "success"),
        "tool_err": ("ok", 1, 0, "failure"),
        "denied": ("ok", 1, 1, None),  # a denied call is a failed call, and denied
        "raised": ("error", 0, 0, None),
    }
    one = client.get(f"/api/v1/runs/{ids['clean']}", headers=read).json()["run"]
    assert (one["outcome_score"], one["outcome_reason"]) == (0.9, "customer answered")
    graph = client.get(f"/api/v1/runs/{ids['tool_err']}/graph", headers=read).json()
    failed = {n["name"]: n["failed"] for n in graph["nodes"] if n["kind"] == "eval"}
    assert failed == {"eval tone": False, "eval email-sent": True}


@pytest.mark.parametrize(
    ("query", "part"),
    [("status=broken", "query.status"), ("has_errors=maybe", "query.has_errors"),
     ("denied=2", "query.denied"), ("outcome=great", "query.outcome")],
)  # fmt: skip
def test_bad_filter_values_are_400s_naming_the_parameter(
    client: TestClient, keys: Keys, query: str, part: str
) -> None:
    resp = client.get(f"/api/v1/runs?{query}", headers=keys.header("read"))
    assert resp.status_code == 400, resp.text
    assert part in resp.text


def _rows(page: str) -> dict[str, str]:
    """The runs table's rows by trace id."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(r'<tr class="run-row[^"]*" data-trace-id="(\w+)">.*?</tr>', page, re.S)
    }


def test_runs_page_has_the_filters_and_columns(
    client: TestClient, keys: Keys, ids: dict[str, str]
) -> None:
    read = keys.header("read")
    page = client.get("/ui/runs", headers=read).text
    for control in ('name="has_errors"', 'name="denied"', 'name="outcome"'):
        assert control in page
    assert "<th>errors</th><th>denied</th><th>outcome</th>" in page
    rows = _rows(page)
    assert set(rows) == set(ids.values())
    assert re.search(
        r'class="tool-errors"><span class="badge error"[^>]*>1<', rows[ids["tool_err"]]
    )
    assert re.search(
        r'class="denied-calls"><span class="badge denied"[^>]*>1<', rows[ids["denied"]]
    )
    assert (
        'class="badge outcome-success"' in rows[ids["clean"]]
        and "success 0.9" in rows[ids["clean"]]
    )
    assert 'class="badge outcome-failure"' in rows[ids["tool_err"]]
    filtered = client.get("/ui/runs?has_errors=true&outcome=failure", headers=read).text
    assert set(_rows(filtered)) == {ids["tool_err"]}
    assert '<option value="true" selected>some</option>' in filtered
    assert set(_rows(client.get("/ui/runs?denied=true", headers=read).text)) == {ids["denied"]}
    assert set(_rows(client.get("/ui/runs?has_errors=false", headers=read).text)) == {
        ids["clean"], ids["raised"]}  # fmt: skip
    bad = client.get("/ui/runs?outcome=great", headers=read)
    assert bad.status_code == 200 and "query.outcome" in bad.text and not _rows(bad.text)


def test_run_page_marks_a_failed_eval_failed(
    client: TestClient, keys: Keys, ids: dict[str, str]
) -> None:
    page = client.get(f"/ui/runs/{ids['tool_err']}", headers=keys.header("read")).text

    def summary(name: str) -> str:
        m = re.search(
            rf"<summary>(?:(?!</summary>).)*<b>{re.escape(name)}</b>.*?</summary>", page, re.S
        )
        assert m is not None, name
        return m.group(0)

    assert "✗ failed" in summary("eval email-sent") and "✓" not in summary("eval email-sent")
    assert "✓ passed" in summary("eval tone") and "✗" not in summary("eval tone")
    assert "✗ error" in summary("send_email")
    assert 'id="run-tool-errors"><span class="badge error">1 tool error<' in page
    assert 'id="run-outcome">failure' in page


def test_runs_ingested_over_http_are_counted_by_the_server(
    client: TestClient, keys: Keys, store: SqlStore, tmp_path: Path
) -> None:
    """The SDK's HTTP ingest: the server counts from the spans, whatever the batch claims."""
    from dataclasses import replace

    from agentdeck.store import open_store
    from agentdeck.tracing.sdk.wire import batch_to_bytes

    elsewhere = open_store(f"sqlite:///{tmp_path / 'agent.db'}")
    try:
        ids = record_runs(elsewhere, tmp_path)
        pairs = elsewhere.get_runs_with_spans(list(ids.values()))
    finally:
        elsewhere.close()
    claimed = [replace(r, tool_errors=0, denied_calls=0) for r, _ in pairs]
    body = batch_to_bytes(claimed, [s for _, spans in pairs for s in spans])
    resp = client.post("/api/v1/ingest", content=body, headers=keys.header("ingest"))
    assert resp.status_code == 202, resp.text
    assert _listed(client, keys, "has_errors=true") == {ids["tool_err"], ids["denied"]}
    assert _listed(client, keys, "denied=true") == {ids["denied"]}
    assert _listed(client, keys, "outcome=success") == {ids["clean"]}


def test_otlp_runs_count_their_failed_tool_spans(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    """A trace from the OpenTelemetry SDK (one tool span failing): the run derived from it,
    provisional while only the children have arrived, then real, has one tool error."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.trace import Status, StatusCode, Tracer

    from tracing.otel_fixtures import record

    def agent(tracer: Tracer) -> None:
        with tracer.start_as_current_span(
            "invoke_agent support-bot",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "support-bot",
            },
        ):
            for tool, ok in (("lookup_order", True), ("send_email", False)):
                with tracer.start_as_current_span(
                    f"execute_tool {tool}",
                    attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": tool},
                ) as span:
                    if not ok:
                        span.set_status(Status(StatusCode.ERROR, "invalid recipient"))

    _, spans = record(agent)
    root = next(s for s in spans if s.parent is None)
    children = [s for s in spans if s.parent is not None]
    headers = {**keys.header("ingest"), "content-type": "application/x-protobuf"}
    trace_id = f"{root.context.trace_id:032x}"
    for part in (children, [root]):
        resp = client.post("/v1/traces", content=encode_spans(part).SerializeToString(),
                           headers=headers)  # fmt: skip
        assert resp.status_code == 200, resp.text
        run = client.get(f"/api/v1/runs/{trace_id}", headers=keys.header("read")).json()["run"]
        assert (run["tool_errors"], run["denied_calls"]) == (1, 0)
    assert run["provisional"] is False and run["status"] != "error"
    assert _listed(client, keys, "has_errors=true") == {trace_id}
