"""Enforcement fails closed: a run naming an agent whose spec cannot be resolved (a typo in the
reference, the server down or hung, ``agentdeck.init`` failed) has every guarded tool call
denied with the reason, unless ``on_unresolved="allow"``, which every span of the run records.

Each case uses a real server (uvicorn on the ``store`` fixture), a real closed port or a real
socket that never answers, all on 127.0.0.1."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from policy_support import effects, issue_refund, register_example

import agentdeck
from agentdeck.core.errors import InputError, PolicyDenied
from agentdeck.core.trace.model import SpanKind
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.keys import create_key
from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.http_resolver import HttpResolver
from app_thread import serve_in_thread
from net_support import closed_port_url, hung_server


@dataclass
class Live:
    url: str
    key: str
    stop: Callable[[], None]


@pytest.fixture
def live(store: SqlStore) -> Iterator[Live]:
    """The server, with support-bot@1 (pinning support-refunds@1) deployed to production."""
    register_example(store)
    Deployments(store, gates=[]).promote("support-bot@1", "production")
    key = create_key(store, "sdk", ["ingest", "read"], "test").token
    url, stop = serve_in_thread(create_app(store))
    yield Live(url, key, stop)
    sdk.shutdown(timeout=5)
    stop()


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=5)


def _init(url: str, tmp_path: Path, key: str | None = None, **kw: object) -> None:
    """The SDK sending to ``url`` (the default resolve timeout: 2 s)."""
    agentdeck.init(endpoint=url, api_key=key, spill_dir=tmp_path / "spill", schedule_delay=0.02,
                   **kw)  # fmt: skip
    effects.clear()


def _refund(ref: str, amount: float) -> None:
    with agentdeck.run(agent=ref, input="refund please"):
        issue_refund(order_id="A-1", amount=amount, reason="damaged")


def test_the_pinned_policy_denies_a_900_refund_when_the_reference_resolves(
    live: Live, tmp_path: Path
) -> None:
    _init(live.url, tmp_path, live.key, resolve_timeout_s=60)  # a loaded test machine
    with pytest.raises(PolicyDenied) as denied:
        _refund("support-bot@production", 900)
    assert "refund-hard-limit" in denied.value.rules
    assert effects == []


def test_a_typo_in_the_env_denies_the_call_as_an_unknown_reference(
    live: Live, tmp_path: Path
) -> None:
    _init(live.url, tmp_path, live.key, resolve_timeout_s=60)  # a loaded test machine
    with pytest.raises(PolicyDenied, match="unknown reference") as denied:
        _refund("support-bot@prod", 900)
    assert "support-bot@prod" in str(denied.value)
    assert effects == []  # the refund never ran


def test_a_typo_in_the_env_is_denied_with_the_embedded_store_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'agentdeck.db'}"
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", url)
    monkeypatch.delenv("AGENTDECK_ENDPOINT", raising=False)
    from agentdeck.store import open_store

    store = open_store()
    register_example(store)
    Deployments(store, gates=[]).promote("support-bot@1", "production")
    agentdeck.init(spill_dir=tmp_path / "spill")
    effects.clear()
    with pytest.raises(PolicyDenied, match="unknown reference"):
        _refund("support-bot@prod", 900)
    with pytest.raises(PolicyDenied) as by_rule:
        _refund("support-bot@production", 900)
    assert "refund-hard-limit" in by_rule.value.rules
    assert effects == []


def test_a_server_that_is_down_denies_even_a_small_refund(tmp_path: Path) -> None:
    _init(closed_port_url(), tmp_path, "k")
    with pytest.raises(PolicyDenied, match="store or server unreachable"):
        _refund("support-bot@production", 50)
    assert effects == []


def test_a_hung_server_is_a_timeout_and_the_agent_waits_only_the_resolve_timeout(
    tmp_path: Path,
) -> None:
    with hung_server() as url:
        _init(url, tmp_path, "k")  # the default resolve_timeout_s: 2 s
        t0 = time.monotonic()
        with pytest.raises(PolicyDenied, match="timeout"):
            _refund("support-bot@production", 50)
        waited = time.monotonic() - t0
        assert waited < 10  # bounded by resolve_timeout_s (2 s), with a generous margin
        t0 = time.monotonic()
        with pytest.raises(PolicyDenied, match="timeout"):  # remembered: not asked again
            _refund("support-bot@production", 50)
        assert time.monotonic() - t0 < waited + 5
    assert effects == []


def test_on_unresolved_allow_lets_calls_run_and_every_span_says_so(tmp_path: Path) -> None:
    sink = sdk.InMemorySink()
    agentdeck.init(sink=sink, resolver=HttpResolver(closed_port_url(), "k", timeout=1.0),
                   on_unresolved="allow", spill_dir=tmp_path / "spill",
                   schedule_delay=0.02)  # fmt: skip
    effects.clear()
    with agentdeck.run(agent="support-bot@production", input="q") as run, agentdeck.span("step"):
        issue_refund(order_id="A-1", amount=900, reason="damaged")
    assert effects == [("issue_refund", {"order_id": "A-1", "amount": 900})]
    assert sdk.flush(5)
    spans = sink.trace(run.trace_id)
    assert {s.kind for s in spans} >= {SpanKind.AGENT, SpanKind.CUSTOM, SpanKind.TOOL,
                                       SpanKind.POLICY}  # fmt: skip
    for s in spans:
        assert s.attributes["agentdeck.policy.on_unresolved"] == "allow", s.name
        assert "store or server unreachable" in s.attributes["agentdeck.resolve.error"]
    (recorded,) = [r for r in sink.runs if r.trace_id == run.trace_id]
    assert recorded.attributes["agentdeck.policy.on_unresolved"] == "allow"


def test_a_denied_unresolved_call_is_recorded_as_denied(tmp_path: Path) -> None:
    sink = sdk.InMemorySink()
    agentdeck.init(sink=sink, resolver=HttpResolver(closed_port_url(), "k", timeout=1.0),
                   spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
    effects.clear()
    with (
        agentdeck.run(agent="support-bot@production", input="q") as run,
        pytest.raises(PolicyDenied),
    ):
        issue_refund(order_id="A-1", amount=10, reason="damaged")
    assert sdk.flush(5)
    by_kind = {s.kind: s for s in sink.trace(run.trace_id)}
    assert by_kind[SpanKind.TOOL].attributes["tool.denied"] is True
    policy = by_kind[SpanKind.POLICY]
    assert policy.attributes["policy.effect"] == "deny"
    assert policy.attributes["agentdeck.policy.on_unresolved"] == "deny"
    assert effects == []


# -- agentdeck.init never raises a store error into the agent's code ----------------------------


@pytest.mark.parametrize("how", ["unreachable database", "unwritable directory"])
def test_a_failed_init_reports_once_and_denies_guarded_calls(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("AGENTDECK_ENDPOINT", raising=False)
    if how == "unreachable database":
        port = closed_port_url().rsplit(":", 1)[1]
        monkeypatch.setenv("AGENTDECK_DATABASE_URL",
                           f"postgresql+psycopg://nobody@127.0.0.1:{port}/x")  # fmt: skip
    else:
        (tmp_path / "a-file").write_text("not a directory")
        monkeypatch.setenv("AGENTDECK_DATABASE_URL", f"sqlite:///{tmp_path}/a-file/db.sqlite")
    with caplog.at_level(logging.WARNING, logger="agentdeck"):
        agentdeck.init(spill_dir=tmp_path / "spill")  # does not raise
    stats = agentdeck.stats()
    assert stats is not None and stats.init_error is not None  # type: ignore[attr-defined]
    assert "agentdeck.init failed" in stats.init_error  # type: ignore[attr-defined]
    errors = [r for r in caplog.records if r.name.startswith("agentdeck")]
    assert len(errors) == 1 and "agentdeck.init failed" in errors[0].getMessage()
    effects.clear()
    with pytest.raises(PolicyDenied, match=r"agentdeck\.init failed"):
        _refund("support-bot@1", 50)
    assert effects == []
    assert agentdeck.stats().resolve_errors >= 1  # type: ignore[union-attr]


def test_a_failed_init_with_on_unresolved_allow_lets_calls_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTDECK_ENDPOINT", raising=False)
    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", f"sqlite:///{tmp_path}/a-file/db.sqlite")
    agentdeck.init(on_unresolved="allow", spill_dir=tmp_path / "spill")
    effects.clear()
    _refund("support-bot@1", 50)
    assert effects == [("issue_refund", {"order_id": "A-1", "amount": 50})]


def test_wrong_option_values_still_raise(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="on_unresolved"):
        agentdeck.init(sink=sdk.InMemorySink(), on_unresolved="maybe")
    with pytest.raises(InputError, match="resolve_timeout_s"):
        agentdeck.init(sink=sdk.InMemorySink(), resolve_timeout_s=-1)
    with pytest.raises(TypeError):
        agentdeck.init(sink=sdk.InMemorySink(), on_unresolvd="allow")
