"""Keys bound to agent name patterns (``--agents 'support-*'``): every route that acts on an
agent refuses other agents (403 naming the patterns), admits matching ones, and the key's
patterns are recorded with its name on every audited action."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_support import Keys
from test_auth_routes import WRITE_SCOPES

from agentdeck.core.errors import InputError
from agentdeck.policy.approvals import ApprovalRequest, open_request
from agentdeck.registry.keys import create_key
from agentdeck.store import SqlStore
from foundation import seed_policy, spec_dict

#: Routes that act on an agent, and how the matrix below exercises each.
AGENT_ROUTES = {
    ("POST", "/api/v1/agents"),
    ("POST", "/api/v1/policies"),
    ("POST", "/api/v1/policies/{ref}/tests"),
    ("POST", "/api/v1/deployments/promote"),
    ("POST", "/api/v1/deployments/rollback"),
    ("POST", "/api/v1/deployments/mark"),
    ("POST", "/api/v1/approvals/{approval_id}/approve"),
    ("POST", "/api/v1/approvals/{approval_id}/reject"),
    ("POST", "/ui/approvals/{approval_id}/approve"),
    ("POST", "/ui/approvals/{approval_id}/reject"),
}
#: Deploy-scope routes that do not act on one agent (a bound key is not narrowed there).
NOT_AGENT_ROUTES = {
    ("POST", "/api/v1/alerts/{alert_id}/ack"),
    ("POST", "/api/v1/alerts/{alert_id}/resolve"),
    ("POST", "/api/v1/baselines"),
    ("POST", "/api/v1/runs/{run_id}/check"),
    ("POST", "/api/v1/replays"),
}


#: Canary routes act on an agent too: a bound key is refused for other agents (test below).
CANARY_ROUTES = {
    ("POST", "/api/v1/canaries"),
    ("POST", "/api/v1/canaries/{name}/{action}"),
    ("POST", "/ui/canary/{name}/{action}"),
}


def test_every_deploy_route_is_classified() -> None:
    deploy = {r for r, scope in WRITE_SCOPES.items() if scope == "deploy"}
    assert deploy == AGENT_ROUTES | NOT_AGENT_ROUTES | CANARY_ROUTES


def test_a_bound_key_cannot_start_or_steer_another_agents_canary(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    ci = _setup(client, keys, store)
    refused = [
        client.post("/api/v1/canaries", json={"ref": "billing-bot@2", "env": "dev", "share": 10},
                    headers=ci),
        client.post("/api/v1/canaries/billing-bot/abort", json={"env": "dev"}, headers=ci),
        client.post("/ui/canary/billing-bot/abort", data={"env": "dev"},
                    headers={**ci, "HX-Request": "true"}),
    ]  # fmt: skip
    for r in refused:
        assert r.status_code == 403, (r.request.url, r.status_code, r.text)
        assert "support-*" in r.text and "billing-bot" in r.text


def _setup(client: TestClient, keys: Keys, store: SqlStore) -> dict[str, str]:
    """support-bot and billing-bot registered and in dev; billing-bot pins ``shared``."""
    seed_policy(store, "shared")
    deploy = keys.header("deploy")
    for name, extra in (("support-bot", {}), ("billing-bot", {"policy": "shared@1"})):
        for prompt in ("v1", "v2"):
            r = client.post(
                "/api/v1/agents",
                json={"spec": spec_dict(name=name, system_prompt=prompt, **extra)},
                headers=deploy,
            )
            assert r.status_code == 200, r.text
        for v in (1, 2):
            r = client.post(
                "/api/v1/deployments/promote",
                json={"ref": f"{name}@{v}", "env": "dev"},
                headers=deploy,
            )
            assert r.status_code == 200, r.text
    ci = create_key(store, "ci", ["deploy"], "test", agents=["support-*"]).token
    return {"Authorization": f"Bearer {ci}"}


def _approval(store: SqlStore, agent: str) -> str:
    request = ApprovalRequest(
        tool="refund",
        args={"amount": 900},
        policy_name="shared",
        policy_version=1,
        policy_digest="sha256:" + "0" * 64,
        rules=("r",),
        message="m",
        explanation="e",
        agent_name=agent,
    )
    return open_request(store, request, 600, now=datetime.now(UTC)).id


Case = tuple[str, dict[str, Any], str, dict[str, Any]]


def _cases(store: SqlStore) -> list[Case]:
    """(url, body) for support-bot and (url, body) for billing-bot, per agent route."""
    policy = {"name": "shared", "default_effect": "allow", "rules": []}
    own_policy = {"name": "support-only", "default_effect": "allow", "rules": []}
    support, billing = (
        spec_dict(name="support-bot", system_prompt="v3"),
        spec_dict(name="billing-bot", system_prompt="v3"),
    )
    out: list[Case] = [
        ("/api/v1/agents", {"spec": support}, "/api/v1/agents", {"spec": billing}),
        ("/api/v1/policies", {"policy": own_policy}, "/api/v1/policies", {"policy": policy}),
    ]
    for path, key in (("promote", "ref"), ("mark", "agent"), ("rollback", "agent")):
        url = f"/api/v1/deployments/{path}"
        extra = {"health": "good"} if path == "mark" else {}
        ours = {key: "support-bot@1" if key == "ref" else "support-bot", "env": "dev", **extra}
        theirs = {key: "billing-bot@1" if key == "ref" else "billing-bot", "env": "dev", **extra}
        out.append((url, ours, url, theirs))
    for prefix in ("/api/v1/approvals", "/ui/approvals"):
        for verb in ("approve", "reject"):
            ours_url = f"{prefix}/{_approval(store, 'support-bot')}/{verb}"
            theirs_url = f"{prefix}/{_approval(store, 'billing-bot')}/{verb}"
            out.append((ours_url, {"reason": "ok"}, theirs_url, {"reason": "ok"}))
    return out


def _send(client: TestClient, url: str, body: dict[str, Any], ci: dict[str, str]) -> Any:
    if url.startswith("/ui/"):  # the approvals page posts a form through htmx
        return client.post(url, data=body, headers={**ci, "HX-Request": "true"})
    return client.post(url, json=body, headers=ci)


def test_a_bound_key_acts_on_matching_agents_only(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    ci = _setup(client, keys, store)
    seen = set()
    for ours_url, ours, theirs_url, theirs in _cases(store):
        refused = _send(client, theirs_url, theirs, ci)
        assert refused.status_code == 403, (theirs_url, refused.status_code, refused.text)
        assert "support-*" in refused.text and "billing-bot" in refused.text
        allowed = _send(client, ours_url, ours, ci)
        assert allowed.status_code == 200, (ours_url, allowed.status_code, allowed.text)
        seen.add(ours_url.rsplit("/", 2)[0] + ours_url.rsplit("/", 1)[1])
    tests = client.post(
        "/api/v1/policies/shared@1/tests", json={"agent": "billing-bot@1", "tests": []}, headers=ci
    )
    assert tests.status_code == 403 and "support-*" in tests.text
    assert len(seen) == len(AGENT_ROUTES) - 1  # policy tests: checked just above


def test_the_patterns_are_recorded_on_every_audited_action(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    ci = _setup(client, keys, store)
    before = len(store.audit_entries())
    for url, body, _, _ in _cases(store):
        answer = _send(client, url, body, ci)
        assert answer.status_code == 200, (url, answer.text)
    mine = store.audit_entries()[before:]
    mine = [e for e in mine if e.actor != "system"]
    assert len(mine) >= 5
    assert all(e.actor == "ci [agents=support-*]" for e in mine), [e.actor for e in mine]
    head = store.head("support-bot", "dev")
    assert head is not None and head.actor == "ci [agents=support-*]"


def test_keys_with_patterns_are_created_listed_and_validated(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    made = client.post(
        "/api/v1/keys",
        json={"name": "ci", "scopes": ["deploy"], "agents": ["support-*", "ops-?"]},
        headers=keys.header("admin"),
    )
    assert made.status_code == 201 and made.json()["agents"] == ["ops-?", "support-*"]
    entry = store.audit_entries()[-1]
    assert entry.action == "key.create" and entry.payload["agents"] == ["ops-?", "support-*"]
    bad = client.post(
        "/api/v1/keys",
        json={"name": "x", "scopes": ["deploy"], "agents": ["support/[a-z]"]},
        headers=keys.header("admin"),
    )
    assert bad.status_code == 400 and bad.json()["error"].startswith("agents:")
    with pytest.raises(InputError, match="admin key"):
        create_key(store, "root2", ["admin"], "test", agents=["support-*"])
