"""OTLP out from the SDK: ``agentdeck.init(otlp_endpoint=...)`` and the standard
``OTEL_EXPORTER_OTLP_*`` variables send the spans to a local OTLP/HTTP receiver (decoded with
``opentelemetry-proto`` only) with GenAI names and resource attributes, beside the agentdeck
destination or alone; one destination down does not hold up the other."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentdeck
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ResolvedAgent, ToolSpec
from agentdeck.core.trace.model import TokenUsage
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.sink import InMemorySink
from net_support import closed_port_url
from tracing.otlp_receiver import Receiver, attributes, otlp_receiver


@sdk.tool
def lookup_order(order_id: str) -> dict[str, str]:
    return {"order_id": order_id, "state": "shipped"}


def _agent() -> ResolvedAgent:
    spec = AgentSpec(name="support-bot", model=ModelSpec("openai", "gpt-4o"),
                     tools=(ToolSpec("lookup_order"),))  # fmt: skip
    return ResolvedAgent("support-bot", 3, spec.digest, spec, env="production")


def _one_run() -> str:
    with sdk.run(_agent(), input="where is A-1?", session_id="conv-1", user_id="ada") as r:
        with sdk.llm(messages=[{"role": "user", "content": "where is A-1?"}], model="gpt-4o") as c:
            c.record(message={"role": "assistant", "content": "let me look"},
                     usage=TokenUsage(12, 5))  # fmt: skip
        lookup_order("A-1")
        r.set_output("shipped")
    return r.trace_id


@pytest.fixture
def receiver() -> Receiver:  # type: ignore[misc]
    with otlp_receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                 "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                 "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "AGENTDECK_ENDPOINT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    sdk.shutdown(timeout=10)


def test_spans_go_to_the_collector_beside_the_agentdeck_destination(
    receiver: Receiver, tmp_path: Path
) -> None:
    primary = InMemorySink()
    agentdeck.init(sink=primary, otlp_endpoint=receiver.url, otlp_headers={"x-api-key": "k1"},
                   env="production", enforce_policies=False, spill_dir=tmp_path / "spill",
                   schedule_delay=0.02)  # fmt: skip
    trace_id = _one_run()
    assert agentdeck.flush(15)
    got = receiver.wait_for(3)
    names = {span.name: (res, attributes(span.attributes)) for res, span in got}
    assert set(names) == {"invoke_agent support-bot", "chat gpt-4o", "execute_tool lookup_order"}
    res, agent = names["invoke_agent support-bot"]
    assert res["service.name"] == "agentdeck"
    assert res["service.version"] == agentdeck.__version__
    assert res["deployment.environment.name"] == "production"
    assert agent["gen_ai.operation.name"] == "invoke_agent"
    assert agent["gen_ai.agent.name"] == "support-bot"
    assert (agent["session.id"], agent["user.id"]) == ("conv-1", "ada")
    assert agent["agentdeck.run.session_id"] == "conv-1"
    _, chat = names["chat gpt-4o"]
    assert chat["gen_ai.operation.name"] == "chat"
    assert chat["gen_ai.request.model"] == "gpt-4o"
    assert (chat["gen_ai.usage.input_tokens"], chat["gen_ai.usage.output_tokens"]) == (12, 5)
    _, tool = names["execute_tool lookup_order"]
    assert tool["gen_ai.operation.name"] == "execute_tool"
    assert tool["gen_ai.tool.name"] == "lookup_order"
    assert {r.path for r in receiver.received} == {"/v1/traces"}
    assert all(r.headers.get("x-api-key") == "k1" for r in receiver.received)
    assert {s.trace_id for s in primary.spans} == {trace_id} and len(primary.spans) == 3
    assert primary.run(trace_id) is not None


def test_standard_otel_variables(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cret,x-team=ops")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "refund-service")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.version=2.4.1,team=payments")
    agentdeck.init(sink=InMemorySink(), enforce_policies=False, spill_dir=tmp_path / "spill",
                   schedule_delay=0.02)  # fmt: skip
    _one_run()
    assert agentdeck.flush(15)
    (res, _), *_ = receiver.wait_for(3)
    assert (res["service.name"], res["service.version"], res["team"]) == (
        "refund-service", "2.4.1", "payments",
    )  # fmt: skip
    headers = receiver.received[0].headers
    assert (headers["authorization"], headers["x-team"]) == ("Bearer s3cret", "ops")
    assert receiver.received[0].path == "/v1/traces"


def test_traces_endpoint_is_used_as_it_is(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", closed_port_url())  # the specific one wins
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{receiver.url}/custom/traces")
    agentdeck.init(sink=InMemorySink(), enforce_policies=False, spill_dir=tmp_path / "spill",
                   schedule_delay=0.02)  # fmt: skip
    _one_run()
    assert agentdeck.flush(15)
    receiver.wait_for(3)
    assert {r.path for r in receiver.received} == {"/custom/traces"}


def test_otlp_alone(receiver: Receiver, tmp_path: Path) -> None:
    agentdeck.init(otlp_endpoint=receiver.url, otlp_only=True, enforce_policies=False,
                   spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
    _one_run()
    assert agentdeck.flush(15)
    assert len(receiver.wait_for(3)) == 3
    assert not (tmp_path / ".agentdeck" / "agentdeck.db").exists()  # no embedded store


def test_a_collector_down_does_not_hold_up_the_agentdeck_destination(tmp_path: Path) -> None:
    primary = InMemorySink()
    agentdeck.init(sink=primary, otlp_endpoint=closed_port_url(), enforce_policies=False,
                   spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
    trace_id = _one_run()
    result = agentdeck.flush(15)
    assert not result and result.spilled == 4  # the collector's copy: spilled for later
    assert len(primary.trace(trace_id)) == 3 and primary.run(trace_id) is not None
    assert (tmp_path / "spill" / "also-1").is_dir()


class _Down:
    def write_batch(self, runs: object, spans: object) -> None:
        raise ConnectionError("agentdeck server down")


def test_the_agentdeck_destination_down_does_not_hold_up_the_collector(
    receiver: Receiver, tmp_path: Path
) -> None:
    agentdeck.init(sink=_Down(), otlp_endpoint=receiver.url, enforce_policies=False,
                   spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
    _one_run()
    assert not agentdeck.flush(15)
    assert len(receiver.wait_for(3)) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"otlp_endpoint": "ftp://x"}, "otlp_endpoint"), ({"otlp_only": True}, "otlp_only")],
)
def test_bad_options_raise_naming_them(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(agentdeck.AgentDeckError, match=message):
        agentdeck.init(sink=InMemorySink() if "otlp_endpoint" in kwargs else None, **kwargs)


def test_bad_headers_variable_is_named(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "no-equals-sign")
    with pytest.raises(agentdeck.AgentDeckError, match="OTEL_EXPORTER_OTLP_HEADERS"):
        agentdeck.init(sink=InMemorySink(), otlp_endpoint=receiver.url)
