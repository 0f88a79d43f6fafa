"""Server settings: one frozen value, built from keyword arguments or the environment.

Environment variables (all optional):

- ``AGENTDECK_REDACT``: comma-separated pattern groups to mask before storage
  (default ``api_keys,bearer,private_keys,jwt,key_values``; add ``email``, ``card``; ``none``
  turns pattern masking off). The SDK reads the same three variables
  (:mod:`agentdeck.tracing.sdk.redaction`).
- ``AGENTDECK_REDACT_PATTERNS``: a JSON object of extra ``{"name": "regex"}`` patterns.
- ``AGENTDECK_REDACT_KEYS``: comma-separated extra key names whose values are masked whole.
- ``AGENTDECK_MAX_BODY_BYTES``: largest ingest/OTLP request body, inflated (default 16 MiB).
- ``AGENTDECK_MAX_REQUEST_BYTES``: largest body of every other route (default 1 MiB).
- ``AGENTDECK_INGEST_QUEUE``: requests the SQLite writer may hold before answering 503.
- ``AGENTDECK_ALERT_RULES``: an alert rules YAML file; the server evaluates it every
  ``AGENTDECK_ALERT_INTERVAL`` seconds (default 60).
- ``AGENTDECK_BEHIND_PROXY``: ``1`` believes X-Forwarded-For (the client address that failed
  authentication is counted against) and X-Forwarded-Proto (``https`` makes the session cookie
  ``Secure``); set it only when a proxy you run overwrites those headers.
- ``AGENTDECK_METRICS_OPEN``: ``1`` serves ``GET /metrics`` without a key (default: read scope).
- ``AGENTDECK_CHECK_ON_INGEST``: ``0`` turns off per-run checks of ingested runs (default on).
- ``AGENTDECK_ONLINE_EVALUATORS``: ``module:function`` returning an
  :class:`~agentdeck.evals.online.OnlineEvaluation` applied to ingested runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from agentdeck.core.errors import InputError
from agentdeck.core.redaction.redact import Redactor
from agentdeck.tracing.sdk.redaction import parse_groups, parse_keys, parse_patterns
from agentdeck.tracing.sdk.secret_patterns import DEFAULT_GROUPS, redactor

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8600
MiB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """How ``agentdeck serve`` behaves; :meth:`from_env` reads the environment."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_body_bytes: int = 16 * MiB
    max_request_bytes: int = 1 * MiB  # every route but ingest and OTLP
    ingest_queue: int = 512  # pending ingest requests (SQLite writer) before 503
    writer_batch_spans: int = 8192  # spans merged into one SQLite transaction at most
    retry_after_s: int = 1
    redact: tuple[str, ...] = DEFAULT_GROUPS
    redact_patterns: Mapping[str, str] = field(default_factory=dict)
    redact_keys: tuple[str, ...] = ()
    cookie_secure: bool = False  # set the UI session cookie only over HTTPS
    behind_proxy: bool = False  # trust X-Forwarded-For / X-Forwarded-Proto
    session_lifetime_s: float = 12 * 3600.0  # a UI session ends this long after sign-in
    session_idle_s: float = 30 * 60.0  # ... or this long after its last request
    auth_failure_limit: int = 20  # failed authentications per address and window, then 429
    auth_failure_window_s: float = 60.0
    alert_rules: str | None = None  # alert rules YAML evaluated by the server's loop
    alert_interval_s: float = 60.0
    metrics_open: bool = False  # GET /metrics without a key (Prometheus scrapes)
    check_on_ingest: bool = True  # per-run checks of ingested runs (off the request path)
    online_evaluators: str | None = None  # "module:function" -> OnlineEvaluation

    def redactor(self) -> Redactor:
        return redactor(
            self.redact, self.redact_patterns, self.redact_keys, source="AGENTDECK_REDACT"
        )

    @classmethod
    def from_env(cls, **overrides: object) -> ServerSettings:
        """Settings from ``AGENTDECK_*`` variables; keyword ``overrides`` win."""
        values: dict[str, object] = {}
        raw = os.environ.get("AGENTDECK_REDACT")
        if raw is not None:
            values["redact"] = parse_groups(raw, "AGENTDECK_REDACT")
        patterns = os.environ.get("AGENTDECK_REDACT_PATTERNS")
        if patterns:
            values["redact_patterns"] = parse_patterns(patterns, "AGENTDECK_REDACT_PATTERNS")
        keys = os.environ.get("AGENTDECK_REDACT_KEYS")
        if keys:
            values["redact_keys"] = parse_keys(keys)
        for var, key in (
            ("AGENTDECK_MAX_BODY_BYTES", "max_body_bytes"),
            ("AGENTDECK_MAX_REQUEST_BYTES", "max_request_bytes"),
            ("AGENTDECK_INGEST_QUEUE", "ingest_queue"),
        ):
            text = os.environ.get(var)
            if text:
                if not text.isdigit() or int(text) < 1:
                    raise InputError(f"{var}: expected a positive integer, got {text!r}")
                values[key] = int(text)
        rules = os.environ.get("AGENTDECK_ALERT_RULES")
        if rules:
            values["alert_rules"] = rules
        interval = os.environ.get("AGENTDECK_ALERT_INTERVAL")
        if interval:
            try:
                values["alert_interval_s"] = float(interval)
            except ValueError:
                raise InputError(f"AGENTDECK_ALERT_INTERVAL: not a number: {interval!r}") from None
            if values["alert_interval_s"] <= 0:  # type: ignore[operator]
                raise InputError(f"AGENTDECK_ALERT_INTERVAL: must be positive, got {interval!r}")
        for var, key in (
            ("AGENTDECK_METRICS_OPEN", "metrics_open"),
            ("AGENTDECK_CHECK_ON_INGEST", "check_on_ingest"),
            ("AGENTDECK_BEHIND_PROXY", "behind_proxy"),
        ):
            flag = os.environ.get(var)
            if flag:
                values[key] = _flag(var, flag)
        online = os.environ.get("AGENTDECK_ONLINE_EVALUATORS")
        if online:
            values["online_evaluators"] = online
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.redactor()  # validate the patterns now, not on the first request
        return settings


def _flag(var: str, text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{var}: expected 1/0, true/false, yes/no or on/off, got {text!r}")
