"""The example support bot: its own eval suite passes on v1 (pytest plugin fixtures), the
scripted model is deterministic, the provider's API versions shape lookup_order, and the
OpenAI-compatible client speaks the chat-completions wire format (against a mock transport)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdeck.evals.runner import CaseRun, load_suite
from agentdeck.registry.specfile import load_agent_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support-bot"
SUITE = EXAMPLE / "evals" / "suite.yaml"
V1, V2 = EXAMPLE / "agent.v1.yaml", EXAMPLE / "agent.v2.yaml"


@pytest.fixture(autouse=True)
def _example() -> Iterator[None]:
    sys.path.insert(0, str(EXAMPLE))
    from support_bot import shop

    shop.PROVIDER.reset()
    try:
        yield
    finally:
        shop.PROVIDER.reset()
        sys.path.remove(str(EXAMPLE))


@pytest.mark.parametrize("case_id", [c.id for c in load_suite(SUITE).cases])
def test_the_suite_passes_on_v1(agentdeck_case: Callable[..., CaseRun], case_id: str) -> None:
    run = agentdeck_case(SUITE, case_id, agent=V1)
    assert run.verdict.passed, run.verdict.reasons


def test_v2_offers_store_credit_first(agentdeck_case: Callable[..., CaseRun]) -> None:
    run = agentdeck_case(SUITE, "refund-small-damaged", agent=V2)
    assert not run.verdict.passed and run.tools == ("lookup_order",)
    assert "store credit" in run.output


def test_v2_breaks_when_production_serves_the_old_api(
    agentdeck_run: Callable[..., CaseRun],
) -> None:
    """Production without lookup_order 2.0 answers with `email`: v2 sends the confirmation
    without a recipient; once the provider rolls 2.0 out, it works."""
    from support_bot import shop

    from agentdeck.core.spec.agent import ResolvedAgent

    spec = load_agent_spec(V2)
    prod = ResolvedAgent(spec.name, 2, spec.digest, spec, env="production")
    msg = "ORD-1027 was defective, refund to my card please. I'm max.kim@example.com"
    broken = agentdeck_run(prod, msg)
    assert "email" in broken.calls_to("lookup_order")[0].result
    mail = broken.calls_to("send_email")[0]
    assert "to" not in mail.args and mail.error is not None
    assert "could not send the confirmation" in broken.output
    shop.PROVIDER.roll_out("2")
    fixed = agentdeck_run(prod, msg)
    assert "customer_email" in fixed.calls_to("lookup_order")[0].result
    assert fixed.called("send_email", to="max.kim@example.com")


def test_scripted_model_is_deterministic() -> None:
    from support_bot.scripted import ScriptedModel

    spec = load_agent_spec(V1)
    messages = [
        {"role": "user", "content": "Do you ship internationally, and how long does delivery take?"}
    ]
    a = ScriptedModel(spec).complete(messages, [{"name": "search_kb"}], {})
    b = ScriptedModel(spec).complete(messages, [{"name": "search_kb"}], {})
    assert a.message == b.message and a.tool_calls[0].name == "search_kb"


def test_model_client_uses_the_real_client_only_with_key_and_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from support_bot.agent import model_client
    from support_bot.openai_compat import OpenAICompatClient
    from support_bot.scripted import ScriptedModel

    spec = load_agent_spec(V1)
    for var in ("OPENAI_API_KEY", "AGENTDECK_OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    assert isinstance(model_client(spec), ScriptedModel)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert isinstance(model_client(spec), ScriptedModel)  # no base URL: still offline
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert isinstance(model_client(spec), OpenAICompatClient)


def test_openai_compat_client_wire_format() -> None:
    from support_bot.openai_compat import OpenAICompatClient

    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/chat/completions"
        assert request.headers["authorization"] == "Bearer sk-test"
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={
            "model": "gpt-4o-2024-08-06",
            "choices": [{"message": {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "ORD-1001"}'}},
            ]}}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 3},
        })  # fmt: skip

    client = OpenAICompatClient("http://127.0.0.1:9/v1", "sk-test", "gpt-4o-2024-08-06",
                                transport=httpx.MockTransport(handler))  # fmt: skip
    history = [
        {"role": "user", "content": "status of ORD-1001?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c0", "name": "search_kb", "arguments": {"query": "x"}}],
        },
        {"role": "tool", "tool_call_id": "c0", "name": "search_kb", "content": "{}"},
    ]
    tools = [{"name": "lookup_order", "description": "d", "input_schema": {"type": "object"}}]
    resp = client.complete(history, tools, {"temperature": 0.2, "seed": 1})
    body = seen[0]
    assert (
        body["model"] == "gpt-4o-2024-08-06" and body["temperature"] == 0.2 and "seed" not in body
    )
    assert body["tools"][0] == {
        "type": "function",
        "function": {"name": "lookup_order", "description": "d", "parameters": {"type": "object"}},
    }
    assert body["messages"][1]["tool_calls"][0]["function"] == {
        "name": "search_kb",
        "arguments": '{"query": "x"}',
    }
    assert body["messages"][2]["tool_call_id"] == "c0"
    assert resp.tool_calls[0].name == "lookup_order" and resp.tool_calls[0].arguments == {
        "order_id": "ORD-1001"
    }
    assert resp.usage is not None and resp.usage.input_tokens == 11
