"""The public tracing SDK: what ``agentdeck/__init__.py`` re-exports.

::

    agentdeck.init(sink=store, resolver=registry_resolver, env="production")
    with agentdeck.run(agent="support-bot@production", input=question) as run:
        reply = agent_main(question, model=agentdeck.recorded_model(client))
        run.set_output(reply)

Importing does nothing; until :func:`init` every entry point is a cheap pass-through.
``init`` starts the exporter's background thread and registers a flush at interpreter exit.
Integrations that cannot use ``with`` (callbacks, streams drained later) start and end the
same blocks through :class:`~agentdeck.tracing.sdk.scopes.Detached`.
The agent's thread never does telemetry I/O and never sees a telemetry exception; the only
exceptions raised on purpose are ``PolicyDenied`` (a guard denied a tool call) and, with
``invalid_args="raise"``, ``ToolArgumentsInvalid``.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model_call import ModelClient, ModelResponse
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.exporter import Exporter, ExporterStats, FlushResult
from agentdeck.tracing.sdk.fanout import FanOut
from agentdeck.tracing.sdk.guard import ToolGuard
from agentdeck.tracing.sdk.limits import SpanLimits
from agentdeck.tracing.sdk.recorder import AgentResolver, SpanHandle, emit_linked_span
from agentdeck.tracing.sdk.redaction import BatchRedactor, redaction_config
from agentdeck.tracing.sdk.scopes import Detached, LlmCall, RunHandle, handoff, llm, run, span
from agentdeck.tracing.sdk.sink import HttpSink, InMemorySink, SpanSink
from agentdeck.tracing.sdk.tools import tool
from agentdeck.tracing.sdk.traceparent import RemoteContext, format_traceparent, from_carrier
from agentdeck.tracing.sdk.validation import ToolArgumentsInvalid

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = [
    "AgentResolver",
    "Detached",
    "ExporterStats",
    "FlushResult",
    "HttpSink",
    "InMemorySink",
    "LlmCall",
    "RecordedModel",
    "RemoteContext",
    "RunHandle",
    "SpanHandle",
    "SpanLimits",
    "SpanSink",
    "ToolArgumentsInvalid",
    "current_run",
    "current_span",
    "emit_linked_span",
    "extract_traceparent",
    "flush",
    "handoff",
    "init",
    "inject_traceparent",
    "llm",
    "recorded_model",
    "run",
    "shutdown",
    "span",
    "stats",
    "tool",
]

_lock = threading.Lock()
_atexit_registered = False


def init(
    *,
    sink: SpanSink | None = None,
    resolver: AgentResolver | None = None,
    env: str | None = None,
    endpoint: str | None = None,
    api_key: str | None = None,
    spill_dir: str | os.PathLike[str] | None = None,
    queue_size: int = 4096,
    batch_size: int = 512,
    schedule_delay: float = 0.5,
    invalid_args: Literal["record", "raise"] = "record",
    guard: ToolGuard | None = None,
    redact: bool | Mapping[str, Any] = True,
    on_full: Literal["drop", "block"] = "drop",
    limits: SpanLimits | None = None,
    on_unresolved: Literal["deny", "allow"] = "deny",
    resolve_timeout_s: float = 2.0,
    cache_dir: str | os.PathLike[str] | None = None,
    also: Sequence[SpanSink] = (),
) -> None:
    """Configure the SDK and start its exporter (calling it again replaces the configuration).

    Spans go to ``sink`` if given, else are POSTed to ``endpoint`` (or ``AGENTDECK_ENDPOINT``)
    with ``api_key`` (or ``AGENTDECK_API_KEY``) and references are resolved by the server,
    else are written to the embedded store
    (``AGENTDECK_DATABASE_URL`` or ``.agentdeck/agentdeck.db``), whose registry then also
    resolves agent references. Undeliverable batches spill to ``spill_dir``
    (default ``.agentdeck/spill`` in the working directory, created only when needed).
    ``invalid_args="raise"`` makes a call with schema-invalid args raise
    :class:`ToolArgumentsInvalid` instead of running; ``guard`` decides tool calls (policy).
    ``redact`` masks secrets in every batch before any destination sees it: ``True`` (default
    patterns, or ``AGENTDECK_REDACT*``), a mapping of extra ``groups``/``patterns``/``keys``,
    or ``False`` (see :mod:`agentdeck.tracing.sdk.redaction`).
    ``on_full="block"`` makes a recording call wait for room when the queue is full instead of
    dropping the oldest span (for bulk work: imports, benchmarks); ``limits`` caps value and
    span sizes (:class:`SpanLimits`, truncating with a marker).
    ``on_unresolved`` is what guards do when a run's agent cannot be resolved ("deny", or
    "allow", recorded on every span of such a run); the resolvers built here wait at most
    ``resolve_timeout_s`` for an answer and keep the last resolved specs on disk under
    ``cache_dir`` (default ``AGENTDECK_CACHE_DIR`` or ``.agentdeck/cache``).
    ``also`` are more destinations (an OTLP collector: ``agentdeck.init(otlp_endpoint=...)``),
    each with its own queue, threads and spill (``spill_dir/also-<i>``), so that one failing
    does not hold up the others (:class:`~agentdeck.tracing.sdk.fanout.FanOut`).
    """
    global _atexit_registered
    if invalid_args not in ("record", "raise"):
        raise InputError(
            f"agentdeck.init: invalid_args must be 'record' or 'raise', not {invalid_args!r}"
        )
    redactor = BatchRedactor(redaction_config(redact))
    if on_full not in ("drop", "block"):
        raise InputError(f"agentdeck.init: on_full must be 'drop' or 'block', not {on_full!r}")
    check_resolution_options(on_unresolved, resolve_timeout_s)
    if sink is None:
        from agentdeck.settings.env import ClientEnv, read

        client = read(ClientEnv)
        endpoint = endpoint or client.endpoint
        if endpoint:
            key = api_key or _secret(client.api_key)
            sink = HttpSink(endpoint, key)
            if resolver is None:
                from agentdeck.registry.spec_cache import default_cache
                from agentdeck.tracing.sdk.http_resolver import HttpResolver

                resolver = HttpResolver(endpoint, key, timeout=resolve_timeout_s,
                                        disk=default_cache(cache_dir, endpoint))  # fmt: skip
        else:
            sink, default_resolver = _embedded_store(resolve_timeout_s, cache_dir)
            resolver = resolver or default_resolver
    spill = Path(spill_dir) if spill_dir is not None else Path.cwd() / ".agentdeck" / "spill"
    exporters = [
        Exporter(
            destination,
            spill_dir=spill if i == 0 else spill / f"also-{i}",
            queue_size=queue_size,
            batch_size=batch_size,
            schedule_delay=schedule_delay,
            redact=redactor,
            on_full=on_full,
            limits=limits,
        )
        for i, destination in enumerate((sink, *also))
    ]
    exporter: Exporter | FanOut = exporters[0] if len(exporters) == 1 else FanOut(exporters)
    with _lock:
        old, rec.config = (
            rec.config,
            rec.Config(
                exporter,
                resolver,
                env,
                invalid_args == "raise",
                guard,
                on_unresolved,
                redactor.value if redactor.config.enabled else None,
            ),
        )
        rec.init_error = None
        if not _atexit_registered:
            atexit.register(_at_exit)
            _atexit_registered = True
    if old is not None:
        old.exporter.shutdown(timeout=5.0)


def _embedded_store(
    timeout: float, cache_dir: str | os.PathLike[str] | None
) -> tuple[SpanSink, AgentResolver]:
    """The embedded store (``AGENTDECK_DATABASE_URL`` or ``.agentdeck/agentdeck.db``) as the
    sink, and a caching registry resolver on it (with its on-disk spec cache)."""
    from agentdeck.registry.resolver import CachingResolver
    from agentdeck.registry.service import Registry
    from agentdeck.registry.spec_cache import default_cache
    from agentdeck.store import open_store

    store = open_store()
    disk = default_cache(cache_dir, embedded_source())
    return store, CachingResolver(Registry(store), timeout=timeout, disk=disk)


def embedded_source() -> str:
    """What names the embedded store in the spec cache: its URL (or default path)."""
    from agentdeck.settings.env import StoreEnv, read

    return read(StoreEnv).database_url or str(Path.cwd() / ".agentdeck")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def check_resolution_options(on_unresolved: str, resolve_timeout_s: float) -> None:
    """Raise InputError for a wrong ``on_unresolved`` or ``resolve_timeout_s``."""
    if on_unresolved not in ("deny", "allow"):
        raise InputError(
            f"agentdeck.init: on_unresolved must be 'deny' or 'allow', not {on_unresolved!r}"
        )
    if (
        isinstance(resolve_timeout_s, bool)
        or not isinstance(resolve_timeout_s, int | float)
        or not 0 < resolve_timeout_s <= 300
    ):
        raise InputError(
            "agentdeck.init: resolve_timeout_s must be seconds in (0, 300], "
            f"not {resolve_timeout_s!r}"
        )


def _at_exit() -> None:
    shutdown(timeout=5.0)


def flush(timeout: float | None = 5.0) -> FlushResult:
    """Try to deliver everything recorded so far (and the spill) within ``timeout`` seconds.

    The result counts what was delivered, spilled, dropped, dead-lettered, lost and still
    pending; it is falsy unless everything recorded so far was delivered.
    """
    cfg = rec.config
    if cfg is None:
        return FlushResult(0, 0, 0, 0, 0, 0, timed_out=False)
    return cfg.exporter.flush(timeout)


def shutdown(timeout: float | None = 5.0) -> bool:
    """Flush, stop the exporter and return to pass-through mode; False if that timed out."""
    with _lock:
        cfg, rec.config = rec.config, None
    if cfg is None:
        return True
    ok = cfg.exporter.shutdown(timeout)
    close = getattr(cfg.exporter.sink, "close", None)
    if callable(close):
        try:
            close()
        except Exception as exc:
            rec.internal_error("sink close", exc)
    return ok


def stats() -> ExporterStats | None:
    """The exporter's counters (dropped, spilled, resent, ...) as an ``SdkStats`` that also
    says why ``init`` failed (``init_error``) and how many runs' agents could not be resolved
    (``resolve_errors``); None before ``init``."""
    from agentdeck.tracing.sdk.stats import SdkStats

    cfg = rec.config
    if cfg is None:
        return None
    return SdkStats.of(cfg.exporter.stats(), rec.init_error, rec.resolve_errors())


def current_span() -> SpanHandle | None:
    """The innermost open span in this context (thread / task), if recording."""
    h = rec.current.get()
    return h if h is not None and h.recording else None


def current_run() -> RunHandle | None:
    """The innermost agent in this context: the run, or the nested agent after a handoff."""
    h = rec.current.get()
    if h is None or h.scope is None:
        return None
    r = h.scope.handle
    return r if isinstance(r, RunHandle) else None


def inject_traceparent(carrier: dict[str, str] | None = None) -> dict[str, str]:
    """Put the current span's ``traceparent`` into ``carrier`` (a new dict if None)."""
    out = {} if carrier is None else carrier
    h = current_span()
    if h is not None:
        out["traceparent"] = format_traceparent(h.trace_id, h.span_id)
    return out


def extract_traceparent(carrier: Mapping[str, str] | str) -> RemoteContext | None:
    """The remote parent in headers (any key case) or a raw value; None if absent or invalid.

    Pass it to ``agentdeck.run(..., parent=...)``.
    """
    try:
        return from_carrier(carrier)
    except Exception:
        return None


class RecordedModel:
    """A :class:`ModelClient` whose every ``complete`` is recorded as an ``llm`` span."""

    def __init__(
        self, client: ModelClient, *, model: str | None = None, provider: str | None = None
    ) -> None:
        self.client = client
        self.model = model
        self.provider = provider

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], params: dict[str, Any]
    ) -> ModelResponse:
        with llm(messages=messages, tools=tools, params=params, model=self.model,
                 provider=self.provider) as call:  # fmt: skip
            response = self.client.complete(messages, tools, params)
            call.record(response)
        return response


def recorded_model(
    client: ModelClient, *, model: str | None = None, provider: str | None = None
) -> RecordedModel:
    """Wrap ``client`` so its calls are recorded (model and provider default to the agent spec's)."""
    return RecordedModel(client, model=model, provider=provider)
