"""Where alerts go: the :class:`AlertSink` seam, its payloads and implementations.

- :class:`LogSink`: one log record (``agentdeck.alerts`` logger; level by severity);
- :class:`WebhookSink`: POSTs :func:`alert_payload` as JSON;
- :class:`SlackSink`: POSTs :func:`slack_payload` (``{"text", "blocks"}``), which Slack
  incoming webhooks and compatible receivers (Mattermost, Rocket.Chat) accept;
- :class:`InMemoryAlertSink`: keeps alerts in a list (the test double).

A sink raises on failure; the alert engine logs the failure and carries on, so one broken
receiver never stops the others or the evaluation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from agentdeck.core.behaviour.records import AlertRecord
from agentdeck.core.errors import StoreError
from agentdeck.monitor.alert_rules import SinkConfig

log = logging.getLogger("agentdeck.alerts")

_LEVEL = {"info": logging.INFO, "warning": logging.WARNING, "critical": logging.CRITICAL}
_ICON = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


class AlertSink(Protocol):
    name: str

    def send(self, alert: AlertRecord) -> None: ...


def alert_payload(alert: AlertRecord) -> dict[str, Any]:
    """The JSON body of a webhook: every field of the alert."""
    return {
        "id": alert.id,
        "rule": alert.rule,
        "subject": alert.subject,
        "agent": alert.agent_name,
        "env": alert.env,
        "severity": alert.severity,
        "status": alert.status,
        "message": alert.message,
        "value": alert.value,
        "opened_at": alert.opened_at.isoformat(),
        "action": alert.action,
    }


def slack_payload(alert: AlertRecord) -> dict[str, Any]:
    """A Slack-compatible message: ``text`` (the notification fallback) and Block Kit
    ``blocks`` (header, fields, context)."""
    title = f"[{alert.severity.upper()}] {alert.rule} on {alert.subject}"
    fields = [
        {"type": "mrkdwn", "text": f"*Severity*\n{alert.severity}"},
        {"type": "mrkdwn", "text": f"*Subject*\n{alert.subject}"},
        {"type": "mrkdwn", "text": f"*Rule*\n{alert.rule}"},
        {"type": "mrkdwn", "text": f"*Value*\n{alert.value if alert.value is not None else '-'}"},
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{_ICON.get(alert.severity, '')} {alert.message}"},
        },
        {"type": "section", "fields": fields},
    ]
    if alert.action:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*Action*: {alert.action}"}}
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"alert `{alert.id}` opened {alert.opened_at.isoformat()}",
                }
            ],
        }
    )
    return {"text": f"{title}: {alert.message}", "blocks": blocks}


class LogSink:
    def __init__(self, name: str = "log") -> None:
        self.name = name

    def send(self, alert: AlertRecord) -> None:
        log.log(
            _LEVEL.get(alert.severity, logging.WARNING),
            "alert %s %s on %s: %s",
            alert.id,
            alert.rule,
            alert.subject,
            alert.message,
        )


class WebhookSink:
    """POSTs JSON to ``url``; a non-2xx answer or a transport error raises :class:`StoreError`."""

    def __init__(self, name: str, url: str, timeout: float = 5.0) -> None:
        self.name, self.url, self.timeout = name, url, timeout

    def payload(self, alert: AlertRecord) -> dict[str, Any]:
        return alert_payload(alert)

    def send(self, alert: AlertRecord) -> None:
        import httpx

        try:
            resp = httpx.post(self.url, json=self.payload(alert), timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise StoreError(
                f"alert sink {self.name} ({self.url}): {type(exc).__name__}: {exc}"
            ) from None
        if resp.status_code // 100 != 2:
            raise StoreError(f"alert sink {self.name} ({self.url}): HTTP {resp.status_code}")


class SlackSink(WebhookSink):
    def payload(self, alert: AlertRecord) -> dict[str, Any]:
        return slack_payload(alert)


class InMemoryAlertSink:
    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.sent: list[AlertRecord] = []

    def send(self, alert: AlertRecord) -> None:
        self.sent.append(alert)


def build_sinks(configs: Sequence[SinkConfig]) -> Mapping[str, AlertSink]:
    """Sinks by name from their validated configuration."""
    out: dict[str, AlertSink] = {}
    for c in configs:
        if c.type == "log":
            out[c.name] = LogSink(c.name)
        elif c.type == "webhook":
            out[c.name] = WebhookSink(c.name, c.url or "", c.timeout)
        else:
            out[c.name] = SlackSink(c.name, c.url or "", c.timeout)
    return out
