"""Server settings: one frozen value, built from keyword arguments or the environment.

Environment variables (all optional):

- ``AGENTDECK_REDACT``: comma-separated pattern groups to mask before storage
  (default ``api_keys,bearer``; add ``email``, ``card``; ``none`` turns pattern masking off).
- ``AGENTDECK_REDACT_PATTERNS``: a JSON object of extra ``{"name": "regex"}`` patterns.
- ``AGENTDECK_MAX_BODY_BYTES``: largest ingest/OTLP request body, inflated (default 16 MiB).
- ``AGENTDECK_INGEST_QUEUE``: requests the SQLite writer may hold before answering 503.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from agentdeck.core.errors import InputError
from agentdeck.core.redact import DEFAULT_RULES, Redactor, build_redactor

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8600
MiB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """How ``agentdeck serve`` behaves; :meth:`from_env` reads the environment."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_body_bytes: int = 16 * MiB
    ingest_queue: int = 512  # pending ingest requests (SQLite writer) before 503
    writer_batch_spans: int = 8192  # spans merged into one SQLite transaction at most
    retry_after_s: int = 1
    redact: tuple[str, ...] = DEFAULT_RULES
    redact_patterns: Mapping[str, str] = field(default_factory=dict)
    cookie_secure: bool = False  # set the UI session cookie only over HTTPS

    def redactor(self) -> Redactor:
        return build_redactor(self.redact, self.redact_patterns, source="AGENTDECK_REDACT")

    @classmethod
    def from_env(cls, **overrides: object) -> ServerSettings:
        """Settings from ``AGENTDECK_*`` variables; keyword ``overrides`` win."""
        values: dict[str, object] = {}
        raw = os.environ.get("AGENTDECK_REDACT")
        if raw is not None:
            names = [p.strip() for p in raw.split(",") if p.strip()]
            values["redact"] = () if names == ["none"] else tuple(names)
        patterns = os.environ.get("AGENTDECK_REDACT_PATTERNS")
        if patterns:
            try:
                parsed = orjson.loads(patterns)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"AGENTDECK_REDACT_PATTERNS: not JSON ({exc})") from None
            if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
                raise InputError('AGENTDECK_REDACT_PATTERNS: expected {"name": "regex", ...}')
            values["redact_patterns"] = parsed
        for var, key in (
            ("AGENTDECK_MAX_BODY_BYTES", "max_body_bytes"),
            ("AGENTDECK_INGEST_QUEUE", "ingest_queue"),
        ):
            text = os.environ.get(var)
            if text:
                if not text.isdigit() or int(text) < 1:
                    raise InputError(f"{var}: expected a positive integer, got {text!r}")
                values[key] = int(text)
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.redactor()  # validate the patterns now, not on the first request
        return settings
