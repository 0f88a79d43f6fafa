"""OTLP out from the SDK: the collector destination ``agentdeck.init`` adds.

``agentdeck.init(otlp_endpoint=..., otlp_headers=...)``, or else the standard variables
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as it is) / ``OTEL_EXPORTER_OTLP_ENDPOINT`` (plus
``/v1/traces``) and ``OTEL_EXPORTER_OTLP_TRACES_HEADERS`` / ``OTEL_EXPORTER_OTLP_HEADERS``
(``key=value,...``, values URL-encoded), name an OTLP/HTTP collector. The SDK's spans then go
there as OTLP protobuf with GenAI names (:mod:`agentdeck.tracing.otlp.map_out`), beside the
agentdeck destination (each with its own delivery and spill) or alone
(``otlp_only=True``). The resource says ``service.name`` (``OTEL_SERVICE_NAME``, else
``agentdeck``), ``service.version`` (else the agentdeck version) and
``deployment.environment.name`` (``init(env=...)``); ``OTEL_RESOURCE_ATTRIBUTES`` adds to and
overrides them. Like the other destinations it receives batches already redacted.

This module composes the SDK (``tracing.sdk``) with the OTLP mapping (``tracing.otlp``), which
the SDK itself does not import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from agentdeck.core.errors import InputError

if TYPE_CHECKING:
    from agentdeck.tracing.otlp.export import OtlpExporter
    from agentdeck.tracing.otlp.values import JSON

__all__ = ["otlp_destination", "parse_headers"]


def parse_headers(text: str | None, where: str) -> dict[str, str]:
    """``key=value,key2=value2`` (values URL-encoded) as a dict; a pair without ``=`` raises
    :class:`InputError` naming ``where``."""
    headers: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{where}: expected key=value pairs separated by commas")
        headers[unquote(key.strip())] = unquote(value.strip())
    return headers


def _resource(env: str | None, service_name: str | None, extra: str | None) -> dict[str, JSON]:
    from agentdeck import __version__

    resource: dict[str, JSON] = {
        "service.name": service_name or "agentdeck",
        "service.version": __version__,
        "telemetry.sdk.name": "agentdeck",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": __version__,
    }
    if env:
        resource["deployment.environment.name"] = env
    resource.update(parse_headers(extra, "OTEL_RESOURCE_ATTRIBUTES"))
    if service_name:
        resource["service.name"] = service_name  # OTEL_SERVICE_NAME wins (the specification)
    return resource


def otlp_destination(
    endpoint: str | None,
    headers: Mapping[str, str] | None,
    env: str | None,
    resource: Mapping[str, Any] | None = None,
) -> OtlpExporter | None:
    """The OTLP destination the options or the ``OTEL_*`` variables name, or None."""
    from agentdeck.settings.env import OtelEnv, read

    otel = read(OtelEnv)
    if endpoint is not None:
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise InputError(
                f"agentdeck.init: otlp_endpoint must be an http(s) URL, not {endpoint!r}"
            )
        url, exact = endpoint, False
    elif otel.exporter_otlp_traces_endpoint:  # the full URL, as the specification says
        url, exact = otel.exporter_otlp_traces_endpoint, True
    elif otel.exporter_otlp_endpoint:
        url, exact = otel.exporter_otlp_endpoint, False
    else:
        return None
    if headers is None:
        secret = otel.exporter_otlp_traces_headers or otel.exporter_otlp_headers
        where = (
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
            if otel.exporter_otlp_traces_headers
            else "OTEL_EXPORTER_OTLP_HEADERS"
        )
        headers = parse_headers(secret.get_secret_value() if secret else None, where)
    from agentdeck.tracing.otlp.export import OtlpExporter  # protobuf: only when used

    res = _resource(env, otel.service_name, otel.resource_attributes)
    res.update(resource or {})
    return OtlpExporter(url, dict(headers), resource_attrs=res, exact_url=exact)
