"""Server settings: one frozen value, built from keyword arguments or the environment.

The environment variables (``AGENTDECK_REDACT*``, ``AGENTDECK_MAX_BODY_BYTES``,
``AGENTDECK_ALERT_RULES``, ``AGENTDECK_BEHIND_PROXY``, ...) are defined, typed and documented
once in :mod:`agentdeck.settings.env` (table: ``docs/configuration.md``); :meth:`ServerSettings.from_env`
reads them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdeck.core.redaction.redact import Redactor
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
    canary_interval_s: float = 30.0  # the canary loop's judgements (AGENTDECK_CANARY_INTERVAL)
    retention_interval_s: float = 3600.0  # the retention loop (retention.days per env); 0: off
    metrics_open: bool = False  # GET /metrics without a key (Prometheus scrapes)
    check_on_ingest: bool = True  # per-run checks of ingested runs (off the request path)
    sampling_success_fraction: float = 1.0  # successful runs keeping their spans (datasets.md)
    online_evaluators: str | None = None  # "module:function" -> OnlineEvaluation
    forward_otlp_endpoint: str | None = None  # an OTLP/HTTP collector to forward batches to
    forward_otlp_headers: Mapping[str, str] = field(default_factory=dict)
    forward_otlp_queue: int = 256  # batches waiting to be forwarded before drops

    def redactor(self) -> Redactor:
        return redactor(
            self.redact, self.redact_patterns, self.redact_keys, source="AGENTDECK_REDACT"
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> ServerSettings:
        """Settings from ``AGENTDECK_*`` variables (:mod:`agentdeck.settings.env`); keyword
        ``overrides`` win. A bad value raises :class:`InputError` naming the variable."""
        from agentdeck.settings.env import RedactionEnv, ServerEnv, read

        env, red = read(ServerEnv), read(RedactionEnv)
        redact = DEFAULT_GROUPS if red.redact is None else red.redact
        settings = cls(
            max_body_bytes=env.max_body_bytes,
            max_request_bytes=env.max_request_bytes,
            ingest_queue=env.ingest_queue,
            redact=redact,
            redact_patterns=dict(red.redact_patterns),
            redact_keys=red.redact_keys,
            behind_proxy=env.behind_proxy,
            alert_rules=env.alert_rules,
            alert_interval_s=env.alert_interval,
            canary_interval_s=env.canary_interval,
            retention_interval_s=env.retention_interval,
            metrics_open=env.metrics_open,
            check_on_ingest=env.check_on_ingest,
            sampling_success_fraction=env.sampling_success_fraction,
            online_evaluators=env.online_evaluators,
            forward_otlp_endpoint=env.forward_otlp_endpoint,
            forward_otlp_headers=_headers(env.forward_otlp_headers),
            forward_otlp_queue=env.forward_otlp_queue,
        )
        settings = dataclasses.replace(settings, **overrides)
        settings.redactor()  # validate the patterns now, not on the first request
        return settings


def _headers(secret: Any) -> dict[str, str]:
    """``key=value,...`` (URL-encoded values) from ``AGENTDECK_FORWARD_OTLP_HEADERS``."""
    from urllib.parse import unquote

    from agentdeck.core.errors import InputError

    text = secret.get_secret_value() if secret is not None else ""
    headers: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InputError(
                "AGENTDECK_FORWARD_OTLP_HEADERS: expected key=value pairs separated by commas"
            )
        headers[unquote(key.strip())] = unquote(value.strip())
    return headers
