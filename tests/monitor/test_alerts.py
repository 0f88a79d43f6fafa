"""Alert rules: validation, sinks (webhook on 127.0.0.1, Slack payload), de-duplication,
cooldown, the promotion gate, auto-rollback and the metrics exposition."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from agentdeck.core.behaviour.records import FindingRecord
from agentdeck.core.errors import SpecError
from agentdeck.core.spec.agent import AgentSpec, ModelSpec
from agentdeck.core.spec.artifacts import AgentVersion
from agentdeck.monitor import metrics
from agentdeck.monitor.alert_rules import load_alert_config, parse_alert_config
from agentdeck.monitor.alert_sinks import InMemoryAlertSink, WebhookSink, slack_payload
from agentdeck.monitor.alerts import RESOLVED, evaluate_alert_rules, set_alert_status
from agentdeck.monitor.gate import NoOpenCriticalAlertGate
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.gates import GateContext
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RULES = {
    "rules": [
        {
            "name": "unknown-tool",
            "check": "unknown_tool",
            "threshold": 2,
            "severity": "critical",
            "window": "1h",
            "cooldown": "2h",
        }
    ]
}


def _finding(
    store: SqlStore, i: int, at: datetime, agent: str = "bot", check: str = "unknown_tool"
) -> None:
    store.put_findings(
        [FindingRecord(f"f{i}", f"{i:032x}", None, agent, "production", check, "critical", "x", at)]
    )


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"rules": [{"name": "r", "check": "loop", "window": "1h"}]}, "rules[0].severity"),
        (
            {"rules": [{"name": "r", "check": "loop", "severity": "bad", "window": "1h"}]},
            "rules[0].severity",
        ),
        (
            {"rules": [{"name": "r", "check": "loop", "severity": "info", "window": "soon"}]},
            "rules[0].window",
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "check": "loop",
                        "metric": "drift",
                        "severity": "info",
                        "window": "1h",
                    }
                ]
            },
            "rules[0]",
        ),
        (
            {"rules": [{"name": "r", "metric": "drift", "severity": "info", "window": "1h"}]},
            "rules[0].agent",
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "check": "loop",
                        "severity": "info",
                        "window": "1h",
                        "threshold": "x",
                    }
                ]
            },
            "rules[0].threshold",
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "check": "loop",
                        "severity": "warning",
                        "window": "1h",
                        "agent": "a",
                        "auto_rollback": {"env": "p"},
                    }
                ]
            },
            "rules[0].auto_rollback",
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "check": "loop",
                        "severity": "info",
                        "window": "1h",
                        "sinks": ["nope"],
                    }
                ]
            },
            "rules[0].sinks",
        ),
        ({"sinks": [{"name": "w", "type": "webhook"}], "rules": []}, "sinks[0].url"),
        (
            {
                "rules": [
                    {"name": "r", "check": "loop", "severity": "info", "window": "1h", "colour": 1}
                ]
            },
            "rules[0].colour",
        ),
    ],
)
def test_rule_errors_name_the_file_and_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_alert_config(doc, "alerts.yaml")
    assert info.value.source == "alerts.yaml" and info.value.field == field
    assert info.value.exit_code == 2


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "a.yaml"
    p.write_text("rules:\n  - name: [unclosed\n")
    with pytest.raises(SpecError, match=r"a\.yaml: line \d"):
        load_alert_config(p)


def test_duplicate_and_cooldown(store: SqlStore) -> None:
    cfg = parse_alert_config(RULES)
    sink = InMemoryAlertSink()
    _finding(store, 1, NOW - timedelta(minutes=5))
    assert evaluate_alert_rules(store, cfg, NOW, sinks={"m": sink}) == []  # 1 < threshold 2
    _finding(store, 2, NOW - timedelta(minutes=4))
    (alert,) = evaluate_alert_rules(store, cfg, NOW, sinks={"m": sink})
    assert alert.subject == "bot@production" and alert.value == 2 and alert.status == "open"
    # still breaching while open: no second alert, last_seen refreshed
    later = NOW + timedelta(minutes=10)
    assert evaluate_alert_rules(store, cfg, later, sinks={"m": sink}) == []
    assert store.get_alert(alert.id).last_seen_at == later  # type: ignore[union-attr]
    # resolved, but inside the 2h cooldown: nothing
    set_alert_status(store, alert.id, RESOLVED, "tester", later)
    _finding(store, 3, later - timedelta(minutes=1))
    assert evaluate_alert_rules(store, cfg, later, sinks={"m": sink}) == []
    # after the cooldown, a new breach fires again
    much_later = NOW + timedelta(hours=3)
    _finding(store, 4, much_later - timedelta(minutes=2))
    _finding(store, 5, much_later - timedelta(minutes=1))
    assert len(evaluate_alert_rules(store, cfg, much_later, sinks={"m": sink})) == 1
    assert len(sink.sent) == 2


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    _Hook.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_webhook_and_slack_sinks_post_json(sqlite_store: SqlStore, hook_url: str) -> None:
    doc = {
        "sinks": [
            {"name": "ops", "type": "webhook", "url": hook_url},
            {"name": "chat", "type": "slack", "url": hook_url},
        ],
        **RULES,
    }
    _finding(sqlite_store, 1, NOW)
    _finding(sqlite_store, 2, NOW)
    (alert,) = evaluate_alert_rules(
        sqlite_store, parse_alert_config(doc), NOW + timedelta(seconds=1)
    )
    hook, slack = _Hook.received
    assert (
        hook["id"] == alert.id and hook["rule"] == "unknown-tool" and hook["severity"] == "critical"
    )
    assert hook["subject"] == "bot@production" and hook["value"] == 2
    assert set(slack) == {"text", "blocks"} and "unknown-tool" in slack["text"]


def test_webhook_failure_raises_naming_the_sink() -> None:
    from agentdeck.core.errors import StoreError

    with pytest.raises(StoreError, match="ops"):
        WebhookSink("ops", "http://127.0.0.1:9/none", timeout=0.5).send(_alert())


def _alert() -> Any:
    from agentdeck.core.behaviour.records import AlertRecord

    return AlertRecord("a" * 32, "r", "bot@production", "bot", "production", "critical", "open",
                       "boom", 3.0, NOW, NOW, NOW)  # fmt: skip


def test_slack_payload_shape() -> None:
    p = slack_payload(_alert())
    assert p["text"].startswith("[CRITICAL] r on bot@production")
    kinds = [b["type"] for b in p["blocks"]]
    assert kinds[0] == "header" and "section" in kinds and kinds[-1] == "context"
    assert all(isinstance(b, dict) for b in p["blocks"])
    assert p["blocks"][0]["text"]["type"] == "plain_text"


def _register_two_versions(store: SqlStore) -> Deployments:
    reg = Registry(store)
    for prompt in ("v1", "v2"):
        reg.register_agent(
            AgentSpec(
                name="bot", model=ModelSpec("openai", "gpt-4o-2024-08-06"), system_prompt=prompt
            )
        )
    dep = Deployments(store, reg, [])
    dep.set_path(["production"])
    dep.promote("bot@1", "production")
    dep.promote("bot@2", "production")
    return dep


def test_auto_rollback_fires_once_with_the_alert_as_reason(store: SqlStore) -> None:
    dep = _register_two_versions(store)
    doc = {
        "rules": [
            {
                **RULES["rules"][0],
                "agent": "bot",
                "env": "production",
                "auto_rollback": {"env": "production"},
            }
        ]
    }
    cfg = parse_alert_config(doc)
    for i in range(3):
        _finding(store, i, NOW - timedelta(minutes=1))
    (alert,) = evaluate_alert_rules(store, cfg, NOW, sinks={})
    assert alert.action is not None and "rolled back bot in production" in alert.action
    assert evaluate_alert_rules(store, cfg, NOW + timedelta(minutes=1), sinks={}) == []
    history = dep.history("bot", "production")
    rollbacks = [d for d in history if d.action.value == "rollback"]
    assert len(rollbacks) == 1 and alert.id in rollbacks[0].reason
    assert rollbacks[0].agent_version == 1 and rollbacks[0].actor == "agentdeck-monitor"


def test_gate_blocks_promotion_while_a_critical_alert_is_open(store: SqlStore) -> None:
    from agentdeck.composition import all_gates
    from agentdeck.core.errors import GateBlocked

    assert any(isinstance(g, NoOpenCriticalAlertGate) for g in all_gates())
    _register_two_versions(store)
    gated = Deployments(store, Registry(store), [NoOpenCriticalAlertGate()])
    candidate: AgentVersion = Registry(store).get("bot@1")
    assert (
        NoOpenCriticalAlertGate()
        .check(GateContext(candidate, "production", None, {}, store))
        .passed
    )
    _finding(store, 1, NOW)
    _finding(store, 2, NOW)
    (alert,) = evaluate_alert_rules(
        store, parse_alert_config(RULES), NOW + timedelta(seconds=1), sinks={}
    )
    with pytest.raises(GateBlocked, match=alert.id[:12]):
        gated.promote("bot@1", "production")
    set_alert_status(store, alert.id, RESOLVED, "tester")
    assert gated.promote("bot@1", "production").deployment.agent_version == 1


def test_metrics_exposition_has_the_series(store: SqlStore) -> None:
    from monitor_support import store_runs

    from agentdeck.monitor.checks import on_runs_stored

    runs = store_runs(store, 30, 9, 10**18)
    on_runs_stored(store, [r.trace_id for r in runs])
    metrics.record_alert("unknown-tool", "critical")
    text = metrics.metrics_text().decode()
    for series in (
        'agentdeck_runs_total{agent="support-bot",env="production",status="ok"}',
        'agentdeck_tool_calls_total{agent="support-bot",outcome="ok",tool="search_kb"}',
        'agentdeck_policy_decisions_total{agent="support-bot",effect="allow"}',
        'agentdeck_findings_total{agent="support-bot",check="task_incomplete"',
        'agentdeck_alerts_fired_total{rule="unknown-tool",severity="critical"}',
    ):
        assert series in text, series
