"""The OpenAPI fuzzer in the suite (issue 16): schemathesis generates valid and invalid requests
for every operation of the server's own OpenAPI document and sends them to a live server on
127.0.0.1, on both backends; no answer is a 5xx, and the server answers normally afterwards.

Two fuzzers run per backend: hypothesis strategies from the schema (valid and invalid requests;
``AGENTDECK_FUZZ_CASES``, default 100) and schemathesis's runner with its coverage phase
(boundary values, undeclared content types, run to completion; then ``AGENTDECK_FUZZ_EXAMPLES``
fuzzed requests per operation, default 3). Raise both for a long campaign.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

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

CASES = int(os.environ.get("AGENTDECK_FUZZ_CASES", "100"))
EXAMPLES = os.environ.get("AGENTDECK_FUZZ_EXAMPLES", "3")


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
            # erasure is fuzzed as a count only: a generated query (`q=0`) can match every
            # seeded run, and the check after the fuzzing reads them
            if case.method == "DELETE" and case.path == "/api/v1/runs":
                case.query = {**(case.query or {}), "dry_run": "true"}
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


def test_schemathesis_coverage_phase_finds_no_5xx(store: SqlStore, tmp_path: Path) -> None:
    """schemathesis's own runner, whose coverage phase sends boundary values (integers past 64
    bits, empty and oversized strings) and undeclared content types to every operation: the
    inputs that first answered 500 (about 1,300 requests, deterministic with the seed)."""
    token = create_key(store, f"fuzz-{uuid.uuid4().hex[:8]}", ["admin"], "test").token
    _seed(store)
    base, stop = serve_in_thread(create_app(store, ServerSettings(max_body_bytes=1024 * 1024)))
    try:
        done = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run", f"{base}/api/openapi.json",
                "--header", f"Authorization: Bearer {token}",
                "--checks", "not_a_server_error", "--phases", "coverage,fuzzing",
                "--max-examples", EXAMPLES, "--workers", "1", "--seed", "1",
                "--exclude-method", "DELETE",  # the fuzzer could revoke its own key
                "--no-color",
            ],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        summary = [line for line in done.stdout.splitlines() if " generated, " in line]
        print("schemathesis:", *summary)
        assert "Server error" not in done.stdout, done.stdout[-4000:]
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        assert summary, done.stdout[-2000:]
        health = requests.get(f"{base}/healthz", timeout=30)
        assert health.status_code == 200
    finally:
        stop()
