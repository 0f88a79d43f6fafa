"""The environments page: promote and rollback buttons that name the exact version, version
pickers, and a plan page that shows the env's gates (the dry run ``agentdeck promote`` runs)
before anything changes; a rollback in production where no earlier known-good deployment
exists still works from the UI (the picked version goes to the API's ``to``), with the API's
scopes and audit. Both backends (the ``store`` fixture)."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.composition import all_gates
from agentdeck.registry.deployments import Deployments
from agentdeck.store import SqlStore
from foundation import spec_dict

OPS = "not-ingest"  # a key with the read and deploy scopes: sees the pages, may change deployments


def _setup(client: TestClient, keys: Keys) -> None:
    """bot@1 then bot@2 promoted through dev, staging, production; production rolled back to
    @1 (so @2 is marked bad there and no earlier known-good deployment is left)."""
    admin = keys.header("admin")
    for prompt in ("v1", "v2"):
        r = client.post("/api/v1/agents", json={"spec": spec_dict(name="bot", system_prompt=prompt)},
                        headers=admin)  # fmt: skip
        assert r.status_code == 200, r.text
    for ref in ("bot@1", "bot@2"):
        for env in ("dev", "staging", "production"):
            r = client.post("/api/v1/deployments/promote", json={"ref": ref, "env": env},
                            headers=admin)  # fmt: skip
            assert r.status_code == 200, r.text
    r = client.post("/api/v1/deployments/rollback", json={"agent": "bot", "env": "production"},
                    headers=admin)  # fmt: skip
    assert r.status_code == 200, r.text


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_buttons_name_the_exact_version_and_read_keys_get_none(
    client: TestClient, keys: Keys
) -> None:
    _setup(client, keys)
    page = client.get("/ui/envs", headers=keys.header(OPS)).text
    assert "Roll back staging to bot@1</button>" in page  # the previous known-good
    assert "Roll back production to bot@2</button>" in page  # none left: the one before, named
    assert "bot@2 (marked bad)" in page  # ... and the picker says what it is
    assert "Promote bot@2 to production</button>" in page  # what staging runs
    viewer = client.get("/ui/envs", headers=keys.header("read")).text
    assert "deploy-plan" not in viewer and "Roll back" not in viewer


def test_plan_page_shows_the_gates_without_changing_anything(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    _setup(client, keys)
    before = (len(store.history("bot", "production")), len(store.audit_entries()))
    page = client.get(
        "/ui/envs/plan?action=promote&agent=bot&env=production&version=2",
        headers=keys.header(OPS),
    )
    assert page.status_code == 200
    gates = re.findall(r'<tr class="gate-row (passed|failed)" data-gate="([^"]+)"', page.text)
    candidate = store.get_agent_version("bot", 2)
    assert candidate is not None
    expected = Deployments(store, gates=all_gates()).check_gates(candidate, "production")
    assert [(("passed" if g.passed else "failed"), g.name) for g in expected] == gates
    assert "previous-env" in dict((n, s) for s, n in gates)
    assert "Promote bot@2 to production" in _text(page.text)
    assert (len(store.history("bot", "production")), len(store.audit_entries())) == before
    viewer = client.get(
        "/ui/envs/plan?action=promote&agent=bot&env=production&version=2",
        headers=keys.header("read"),
    ).text
    assert 'id="plan-needs-deploy"' in viewer and 'id="confirm-form"' not in viewer


def test_plan_page_of_a_rollback_names_both_versions(client: TestClient, keys: Keys) -> None:
    _setup(client, keys)
    page = client.get(
        "/ui/envs/plan?action=rollback&agent=bot&env=production&version=2",
        headers=keys.header(OPS),
    ).text
    text = " ".join(_text(page).split())
    assert "Roll back production to bot@2?" in text
    assert "production now runs bot@1" in text and "bot@2 was marked bad in production" in text
    assert 'data-action="rollback" data-agent="bot" data-env="production" data-ref="bot@2"' in page


def test_rollback_in_production_to_the_picked_version_works_and_is_audited(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    _setup(client, keys)
    assert Deployments(store).rollback_target("bot", "production") is None
    plain = client.post("/api/v1/deployments/rollback", json={"agent": "bot", "env": "production"},
                        headers=keys.header("deploy"))  # fmt: skip
    assert plain.status_code == 404  # what the old button sent
    # what the plan page's confirm button sends (the session header is the UI's)
    r = client.post(
        "/api/v1/deployments/rollback",
        json={"agent": "bot", "env": "production", "to": "bot@2", "reason": "from the UI"},
        headers=keys.header("deploy"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["action"], r.json()["version"], r.json()["actor"]) == (
        "rollback",
        2,
        "deploy-key",
    )
    assert ("deploy-key", "deployment.rollback") in [
        (e.actor, e.action) for e in store.audit_entries()
    ]
    refused = client.post(
        "/api/v1/deployments/rollback",
        json={"agent": "bot", "env": "production", "to": "bot@1"},
        headers=keys.header("read"),
    )
    assert refused.status_code == 403


def test_rollback_target_is_the_previous_known_good(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    _setup(client, keys)
    d = Deployments(store)
    target = d.rollback_target("bot", "staging")
    assert target is not None and target.ref == "bot@1"
    assert d.rollback_target("bot", "production") is None  # @2 is marked bad there
