"""``POST /api/v1/policies/simulate``: runs recorded through the SDK under refunds@1, decided
again by refunds@2, on both backends; bad requests name the body field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.core.errors import PolicyDenied
from agentdeck.policy.enforcer import PolicyGuard, RegistryPolicySource
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from foundation import spec_dict

POLICY: dict[str, Any] = {
    "name": "refunds",
    "rules": [{"id": "big", "when": 'tool.name == "lookup" && args.order_id == "BIG"',
               "effect": "deny"}],
}  # fmt: skip
STRICT: dict[str, Any] = {
    "name": "refunds",
    "rules": [{"id": "no-lookups", "when": 'tool.name == "lookup"', "effect": "deny"}],
}


@sdk.tool
def lookup(order_id: str) -> dict[str, Any]:
    return {"status": "delivered"}


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=5)


def _record(client: TestClient, keys: Keys, store: SqlStore, tmp_path: Path) -> str:
    deploy = keys.header("deploy")
    assert client.post("/api/v1/policies", json={"policy": POLICY}, headers=deploy).is_success
    spec = spec_dict(policy="refunds@1")
    assert client.post("/api/v1/agents", json={"spec": spec}, headers=deploy).is_success
    reg = Registry(store)
    sink = sdk.InMemorySink()
    sdk.init(sink=sink, resolver=CachingResolver(reg), guard=PolicyGuard(RegistryPolicySource(reg)),
             spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
    with sdk.run(agent="bot@1") as run:
        lookup("A1")
        with pytest.raises(PolicyDenied):
            lookup("BIG")
    assert sdk.flush(5)
    store.write_batch(sink.runs, sink.spans)
    assert client.post("/api/v1/policies", json={"policy": STRICT}, headers=deploy).is_success
    return run.trace_id


def test_simulate_reports_the_changed_calls(
    client: TestClient, keys: Keys, store: SqlStore, tmp_path: Path
) -> None:
    trace_id = _record(client, keys, store, tmp_path)
    r = client.post(
        "/api/v1/policies/simulate",
        json={"policy": "refunds@2", "agent": "bot", "changed_only": True},
        headers=keys.header("read"),
    )
    assert r.status_code == 200, r.text
    data = r.json()
    s = data["summary"]
    assert (s["policy"], s["runs"], s["calls"], s["changed"]) == ("refunds@2", 1, 2, 1)
    assert s["changes"] == {"allow->deny": 1} and s["rule_hits"] == {"no-lookups": 2}
    (call,) = data["calls"]
    assert (call["trace_id"], call["step"], call["recorded"], call["effect"]) == (
        trace_id, 0, "allow", "deny"
    )  # fmt: skip
    assert data["stopped"] == [
        {"trace_id": trace_id, "step": 0, "tool": "lookup", "effect": "deny",
         "rules": ["no-lookups"]}
    ]  # fmt: skip
    assert data["selection"]["agent"] == "bot" and data["selection"]["limit"] == 1000


def test_simulate_refuses_bad_requests(
    client: TestClient, keys: Keys, store: SqlStore, tmp_path: Path
) -> None:
    _record(client, keys, store, tmp_path)
    read = keys.header("read")
    url = "/api/v1/policies/simulate"
    r = client.post(url, json={"policy": "nope@1", "agent": "bot"}, headers=read)
    assert r.status_code == 404 and "nope@1" in r.text
    r = client.post(url, json={"policy": "refunds@1", "agent": "bot", "since": "x"}, headers=read)
    assert r.status_code == 400 and "body.since" in r.text
    r = client.post(url, json={"policy": "refunds@1", "agent": "bot", "limit": 10**6}, headers=read)
    assert r.status_code == 422 and "limit" in r.text
    r = client.post(url, json={"policy": "refunds@1"}, headers=read)
    assert r.status_code == 422 and "agent" in r.text
