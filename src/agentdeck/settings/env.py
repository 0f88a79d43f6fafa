"""The catalogue of ``AGENTDECK_*`` variables, one section per reader (see the package doc)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import orjson
from pydantic import Field, PositiveFloat, PositiveInt, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from agentdeck.core.errors import InputError

__all__ = [
    "PREFIX",
    "AllSettings",
    "CliEnv",
    "ClientEnv",
    "CostEnv",
    "OtelEnv",
    "PolicyEnv",
    "RedactionEnv",
    "ServerEnv",
    "StoreEnv",
    "read",
    "variable",
]

PREFIX = "AGENTDECK_"
MiB = 1024 * 1024
_CONFIG = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", frozen=True)

S = TypeVar("S", bound=BaseSettings)


def variable(field: str) -> str:
    """The environment variable of a settings field: ``database_url`` -> ``AGENTDECK_DATABASE_URL``."""
    return PREFIX + field.upper()


def read(section: type[S]) -> S:
    """The section's values from the environment now; a bad value raises :class:`InputError`
    with one line naming each bad variable: ``AGENTDECK_INGEST_QUEUE: ..., got 'many'``."""
    try:
        return section()
    except ValidationError as exc:
        raise InputError("; ".join(_describe(err) for err in exc.errors())) from None


def _describe(err: Any) -> str:
    name = variable(str(err["loc"][0])) if err.get("loc") else PREFIX + "*"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{name}: {msg}, got {err.get('input')!r}"


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    return value


class StoreEnv(BaseSettings):
    model_config = _CONFIG

    database_url: str | None = Field(
        None,
        description="The store's database URL (`sqlite:///path.db` or `postgresql://...`), used "
        "by the CLI (`--db`), the server and the SDK's embedded store. "
        "Default: SQLite at `.agentdeck/agentdeck.db` in the working directory.",
    )
    traces_url: str | None = Field(
        None,
        description="Where runs and spans are kept, when not in the database: a ClickHouse "
        "server or cluster (`clickhouse://user:password@host:8123/database`, `clickhouses://` "
        "for TLS; `?retention_days=N` adds a TTL, `?cluster=NAME` creates replicated tables "
        "`ON CLUSTER`) or ClickHouse in-process (`chdb://` in memory, `chdb:///abs/dir`, also "
        "`clickhouse+chdb://`). The registry, deployments, audit, keys and policies stay in "
        "`AGENTDECK_DATABASE_URL`. Default: the database.",
    )


class ClientEnv(BaseSettings):
    model_config = _CONFIG

    endpoint: str | None = Field(
        None,
        description="The server the SDK sends spans to and resolves references and policies "
        "from (`agentdeck.init(endpoint=...)` wins). Default: the embedded store.",
    )
    api_key: SecretStr | None = Field(
        None, description="The API key the SDK sends to `AGENTDECK_ENDPOINT`."
    )
    cache_dir: Path | None = Field(
        None,
        description="Where the SDK caches the last resolved spec and policy of each reference "
        "for outages (`agentdeck.init(cache_dir=...)` wins). Default: `.agentdeck/cache`.",
    )


class RedactionEnv(BaseSettings):
    model_config = _CONFIG

    redact: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        None,
        description="Comma-separated secret pattern groups masked before data leaves the SDK "
        "and before the server stores it; `none` for no pattern groups. Default: "
        "`api_keys,bearer,private_keys,jwt,key_values` (also `email`, `card`).",
    )
    redact_patterns: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='A JSON object of extra `{"name": "regex"}` patterns to mask (SDK and server).',
    )
    redact_keys: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Comma-separated extra key names whose values are masked whole (SDK and server).",
    )

    @field_validator("redact", mode="before")
    @classmethod
    def _groups(cls, value: object) -> object:
        parsed = _comma_list(value)
        return () if parsed == ("none",) else parsed

    @field_validator("redact_keys", mode="before")
    @classmethod
    def _keys(cls, value: object) -> object:
        return _comma_list(value)

    @field_validator("redact_patterns", mode="before")
    @classmethod
    def _patterns(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc})") from None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise ValueError('expected {"name": "regex", ...}')
        return parsed


class PolicyEnv(BaseSettings):
    model_config = _CONFIG

    approvals: Literal["deny", "store"] | None = Field(
        None,
        description="How the SDK asks for approval of a call a policy holds, without "
        "`agentdeck.init(approver=...)`: `deny` or `store` (through the platform). Default: `deny`.",
    )
    approval_timeout_s: PositiveFloat = Field(
        300.0,
        description="Seconds the SDK waits for an approval before denying "
        "(`agentdeck.init(approval_timeout_s=...)` wins).",
    )


class CliEnv(BaseSettings):
    model_config = _CONFIG

    actor: str | None = Field(
        None,
        description="Who the CLI records as acting (`--actor` wins). Default: `cli:<OS user>`.",
    )
    project: str | None = Field(
        None,
        description="The project the CLI reads and acts in (`--project` wins). Default: `default`.",
    )
    audit_key: Path | None = Field(
        None,
        description="The Ed25519 private key file that signs audit checkpoints (`--key` wins); "
        "keep it outside the database.",
    )


class ServerEnv(BaseSettings):
    model_config = _CONFIG

    max_body_bytes: PositiveInt = Field(
        16 * MiB, description="Largest ingest/OTLP request body the server accepts, inflated."
    )
    max_request_bytes: PositiveInt = Field(
        1 * MiB, description="Largest request body of every other server route."
    )
    ingest_queue: PositiveInt = Field(
        512, description="Ingest requests the SQLite writer may hold before the server answers 503."
    )
    alert_rules: str | None = Field(
        None,
        description="An alert rules YAML file the server evaluates on a schedule "
        "(`agentdeck serve --alert-rules`).",
    )
    alert_interval: PositiveFloat = Field(
        60.0, description="Seconds between the server's alert rule evaluations."
    )
    canary_interval: PositiveFloat = Field(
        30.0, description="Seconds between the server's judgements of active canaries."
    )
    retention_interval: float = Field(
        3600.0,
        ge=0,
        description="Seconds between the server's retention passes (each env's "
        "`retention.days`, as `agentdeck gc`); 0 turns the loop off.",
    )
    behind_proxy: bool = Field(
        False,
        description="`1` believes X-Forwarded-For (the address failed authentications count "
        "against) and X-Forwarded-Proto (`https` makes the session cookie Secure); set it only "
        "when a proxy you run overwrites those headers.",
    )
    metrics_open: bool = Field(
        False, description="`1` serves `GET /metrics` without a key (default: read scope)."
    )
    check_on_ingest: bool = Field(
        True, description="`0` turns off the per-run checks of ingested runs."
    )
    sampling_success_fraction: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="The share (0..1) of successful ingested runs whose spans the server keeps; "
        "every failed run is kept, and a dropped run keeps its runs-list row and summary "
        "(docs/datasets.md). An env's `sampling.success_fraction` gate setting overrides it.",
    )
    online_evaluators: str | None = Field(
        None,
        description="`module:function` returning an `OnlineEvaluation` the server applies to "
        "ingested runs.",
    )
    forward_otlp_endpoint: str | None = Field(
        None,
        description="An OTLP/HTTP collector (base URL, or a URL ending in `/v1/traces`) the "
        "server forwards every stored batch to, as OTLP protobuf, off the request path.",
    )
    forward_otlp_headers: SecretStr | None = Field(
        None,
        description="Headers for `AGENTDECK_FORWARD_OTLP_ENDPOINT`, as `key=value,key2=value2` "
        "(values URL-encoded, as `OTEL_EXPORTER_OTLP_HEADERS`).",
    )
    forward_otlp_queue: PositiveInt = Field(
        256,
        description="Batches waiting to be forwarded before new ones are dropped (and counted "
        "in `agentdeck_otlp_forward_dropped_total`).",
    )


class OtelEnv(BaseSettings):
    """The standard OpenTelemetry exporter variables the SDK reads for OTLP out
    (``agentdeck.init(otlp_endpoint=...)`` wins). Not ``AGENTDECK_*``: documented in
    ``docs/delivery.md``, not in the generated table."""

    model_config = SettingsConfigDict(
        env_prefix="OTEL_", env_ignore_empty=True, extra="ignore", frozen=True
    )

    exporter_otlp_endpoint: str | None = None
    exporter_otlp_traces_endpoint: str | None = None
    exporter_otlp_headers: SecretStr | None = None
    exporter_otlp_traces_headers: SecretStr | None = None
    service_name: str | None = None
    resource_attributes: str | None = None


class CostEnv(BaseSettings):
    model_config = _CONFIG

    prices_file: Path | None = Field(
        None,
        description="A YAML file of model prices that add to or replace those of `genai-prices` "
        "(`prices: {MODEL: {input: USD/Mtok, output: USD/Mtok, cache_read: ..., "
        "reasoning: ...}}`; see docs/cost.md). Read by the store at ingest, the SDK's budget "
        "and `agentdeck cost`. Default: none.",
    )


class AllSettings(StoreEnv, ClientEnv, RedactionEnv, PolicyEnv, CliEnv, ServerEnv, CostEnv):
    """Every section at once: the catalogue the docs table and its test walk."""

    model_config = _CONFIG
