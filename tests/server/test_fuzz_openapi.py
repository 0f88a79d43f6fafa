"""The OpenAPI fuzzer in the suite (issue 16): schemathesis generates valid and invalid requests
for every operation of the server's own OpenAPI document and sends them to a live server on
127.0.0.1, on both backends; no answer is a 5xx, and the server answers normally afterwards.

``AGENTDECK_FUZZ_CASES`` (default 150 per backend, well under a minute) sets the number of
generated requests; ``AGENTDECK_FUZZ_CASES=5000`` runs a long campaign.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import requests
import schemathesis
from demo_data import demo_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from agentdeck.registry.keys import create_key
from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore
from app_thread import serve_in_thread

CASES = int(os.environ.get("AGENTDECK_FUZZ_CASES", "150"))


def _seed(store: SqlStore) -> None:
    """A run to find, so that generated ids sometimes reach past the lookup."""
    run, spans = demo_run(env="production")
    store.write_batch([run], spans)


def test_no_generated_request_answers_5xx_and_the_server_stays_up(store: SqlStore) -> None:
    token = create_key(store, f"fuzz-{uuid.uuid4().hex[:8]}", ["admin"], "test").token
    auth = {"Authorization": f"Bearer {token}"}
    _seed(store)
    base, stop = serve_in_thread(create_app(store, ServerSettings(max_body_bytes=1024 * 1024)))
    session = requests.Session()
    try:
        doc = session.get(f"{base}/api/openapi.json", headers=auth, timeout=30).json()
        schema = schemathesis.openapi.from_dict(doc)
        cases = st.one_of(
            schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE)
        )
        ran: list[str] = []
        failures: list[str] = []

        @settings(
            max_examples=CASES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=cases)
        def one(case: Any) -> None:
            # the key must stay valid: the fuzzer could otherwise revoke its own key
            if case.method == "DELETE" and case.path.startswith("/api/v1/keys"):
                return
            answer = case.call(base_url=base, session=session, headers=auth, timeout=60)
            ran.append(f"{case.method} {case.path}")
            if answer.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {answer.status_code}: "
                    f"{answer.text[:200]}\n{case.as_curl_command()}"
                )
            assert answer.status_code < 500, failures[-1]

        one()
        print(f"fuzz: {len(ran)} requests over {len(set(ran))} operations, {len(failures)} 5xx")
        assert len(ran) >= CASES // 2 and not failures
        assert session.get(f"{base}/healthz", timeout=30).status_code == 200
        runs = session.get(f"{base}/api/v1/runs", headers=auth, timeout=30)
        assert runs.status_code == 200 and runs.json()
    finally:
        session.close()
        stop()


@pytest.mark.parametrize("path", ["/api/v1/runs", "/api/v1/agents"])
def test_the_fuzzer_reaches_the_routes_that_once_failed(store: SqlStore, path: str) -> None:
    """The schema the fuzzer reads lists the operations whose 500s it found first."""
    token = create_key(store, "reader", ["read"], "test").token
    base, stop = serve_in_thread(create_app(store))
    try:
        doc = requests.get(
            f"{base}/api/openapi.json", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).json()
        schema = schemathesis.openapi.from_dict(doc)
        operations = {f"{op.method.upper()} {op.path}" for op in _operations(schema)}
        assert any(o.endswith(f" {path}") for o in operations), operations
        assert (
            "POST /api/v1/approvals" in operations and "PUT /api/v1/envs/{env}/gates" in operations
        )
    finally:
        stop()


def _operations(schema: Any) -> list[Any]:
    return [r.ok() for r in schema.get_all_operations()]
