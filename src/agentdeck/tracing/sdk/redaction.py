"""Redaction in the SDK: one redactor, applied to every batch before it leaves the process.

The exporter's worker calls :meth:`BatchRedactor.__call__` once per batch, after it has built
the batch's spans and before the sink (embedded store, HTTP, OTLP) or the spill file sees
them, so no destination ever receives an unmasked secret. The whole batch is scanned first
(one serialization, in which values captured as JSON bytes are used as they are, and one RE2
scan of the rules' triggers, :meth:`Redactor.clean`); only a batch in which a trigger hit is
redacted item by item. The redactor itself (and
``detect-secrets``) is built on the first batch, in that worker thread.

``agentdeck.init(redact=...)``:

- ``True`` (default): the default groups
  (:data:`~agentdeck.tracing.sdk.secret_patterns.DEFAULT_GROUPS`), or those of
  ``AGENTDECK_REDACT``, plus ``AGENTDECK_REDACT_PATTERNS`` / ``AGENTDECK_REDACT_KEYS`` (the
  variables the server reads too).
- a mapping with any of ``groups`` (names), ``patterns`` (``{"name": "regex"}``, added) and
  ``keys`` (extra key names whose values are masked whole, added).
- ``False``: no redaction in the process; each run then carries the attribute
  ``agentdeck.redaction = "off"`` (the server still applies its own redactor).

A value the redactor cannot process (a bug, not a secret) is replaced by ``[REDACTED:error]``
rather than sent as it is.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from agentdeck.core.errors import InputError
from agentdeck.core.redaction.redact import Redactor, check_extra_patterns
from agentdeck.core.trace.model import Run, Span
from agentdeck.tracing.sdk.secret_patterns import DEFAULT_GROUPS, GROUPS

__all__ = ["OFF_ATTRIBUTE", "BatchRedactor", "RedactionConfig", "redaction_config"]

log = logging.getLogger("agentdeck.tracing")
OFF_ATTRIBUTE = "agentdeck.redaction"
_ERROR_MASK = "[REDACTED:error]"


@dataclass(frozen=True)
class RedactionConfig:
    """What to mask: rule groups, extra named patterns, extra exact key names."""

    enabled: bool = True
    groups: tuple[str, ...] = DEFAULT_GROUPS
    patterns: Mapping[str, str] = field(default_factory=dict)
    keys: tuple[str, ...] = ()

    def build(self) -> Redactor:
        from agentdeck.tracing.sdk.secret_patterns import redactor

        return redactor(self.groups, self.patterns, self.keys, source="redact")


def parse_groups(text: str, source: str) -> tuple[str, ...]:
    """``AGENTDECK_REDACT``: comma-separated group names, ``none`` for no pattern groups."""
    names = [p.strip() for p in text.split(",") if p.strip()]
    return _check_groups(() if names == ["none"] else names, source)


def _check_groups(names: Iterable[str], source: str) -> tuple[str, ...]:
    out = tuple(names)
    for name in out:
        if name not in GROUPS:
            known = ", ".join(sorted(GROUPS))
            raise InputError(f"{source}: unknown pattern group {name!r} (known: {known})")
    return out


def parse_patterns(text: str, source: str) -> dict[str, str]:
    """``AGENTDECK_REDACT_PATTERNS``: a JSON object of ``{"name": "regex"}``."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{source}: not JSON ({exc})") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise InputError(f'{source}: expected {{"name": "regex", ...}}')
    check_extra_patterns(parsed, source)
    return parsed


def parse_keys(text: str) -> tuple[str, ...]:
    """``AGENTDECK_REDACT_KEYS``: comma-separated key names."""
    return tuple(k.strip() for k in text.split(",") if k.strip())


def config_from_env() -> RedactionConfig:
    """The configuration that ``AGENTDECK_REDACT*`` variables describe (defaults otherwise),
    checked: an unknown group or a bad pattern raises :class:`InputError` naming the variable."""
    from agentdeck.settings.env import RedactionEnv, read

    env = read(RedactionEnv)
    groups = DEFAULT_GROUPS
    if env.redact is not None:
        groups = _check_groups(env.redact, "AGENTDECK_REDACT")
    patterns = dict(env.redact_patterns)
    check_extra_patterns(patterns, "AGENTDECK_REDACT_PATTERNS")
    return RedactionConfig(True, groups, patterns, env.redact_keys)


def redaction_config(redact: bool | Mapping[str, Any] | None) -> RedactionConfig:
    """Check ``agentdeck.init(redact=...)``; a bad value raises :class:`InputError` naming it."""
    if redact is False:
        return RedactionConfig(enabled=False)
    base = config_from_env()
    if redact is None or redact is True:
        return base
    if not isinstance(redact, Mapping):
        raise InputError(
            "agentdeck.init: redact must be True, False or a mapping with groups/patterns/keys,"
            f" not {type(redact).__name__}"
        )
    unknown = sorted(set(redact) - {"groups", "patterns", "keys"})
    if unknown:
        raise InputError(
            f"agentdeck.init: redact has unknown field {unknown[0]!r}"
            " (known: groups, patterns, keys)"
        )
    groups = base.groups
    if "groups" in redact:
        if isinstance(redact["groups"], str):
            raise InputError("agentdeck.init: redact['groups'] must be a list of group names")
        groups = _check_groups(redact["groups"], "agentdeck.init: redact['groups']")
    patterns = dict(base.patterns)
    extra = redact.get("patterns") or {}
    if not isinstance(extra, Mapping):
        raise InputError('agentdeck.init: redact[\'patterns\'] must be {"name": "regex"}')
    check_extra_patterns(extra, "agentdeck.init: redact['patterns']")
    patterns.update(extra)
    keys = redact.get("keys") or ()
    if isinstance(keys, str) or not all(isinstance(k, str) for k in keys):
        raise InputError("agentdeck.init: redact['keys'] must be a list of key names")
    return RedactionConfig(True, groups, patterns, (*base.keys, *keys))


class BatchRedactor:
    """Masks a batch of runs and spans; built lazily, never raises."""

    def __init__(self, config: RedactionConfig) -> None:
        self.config = config
        self._redactor: Redactor | None = None
        self._lock = threading.Lock()

    def redactor(self) -> Redactor:
        """The redactor (built, and detect-secrets imported, on the first call)."""
        if self._redactor is None:
            with self._lock:
                if self._redactor is None:
                    self._redactor = self.config.build()
        return self._redactor

    def value(self, value: Any) -> Any:
        """One JSON value masked as a batch's values are (what policies read of a result)."""
        if not self.config.enabled:
            return value
        return self.redactor().value(value)

    def __call__(self, runs: list[Run], spans: list[Span]) -> tuple[list[Run], list[Span]]:
        if not self.config.enabled:
            return [_mark_off(r) for r in runs], spans
        try:
            red = self.redactor()
        except Exception as exc:  # cannot build the patterns: send nothing unmasked
            log.warning("agentdeck: cannot build the redactor, masking whole values: %s", exc)
            return [_blank_run(r) for r in runs], [_blank_span(s) for s in spans]
        if _clean(red, runs, spans):  # the usual batch: one scan, nothing to mask
            return runs, spans
        return [_safe(red.run, _blank_run, r) for r in runs], [
            _safe(red.span, _blank_span, s) for s in spans
        ]


def _clean(red: Redactor, runs: list[Run], spans: list[Span]) -> bool:
    try:
        payloads = [[r.input, r.output, r.attributes, r.error, r.outcome_reason] for r in runs]
        payloads += [[s.inputs, s.outputs, s.attributes, s.error] for s in spans]
        return red.clean(payloads)
    except Exception:  # a bug, not a secret: fall back to the item-by-item path
        return False


def _safe(fn: Any, fallback: Any, item: Any) -> Any:
    try:
        return fn(item)
    except Exception:
        return fallback(item)


def _mark_off(run: Run) -> Run:
    return dataclasses.replace(run, attributes={**run.attributes, OFF_ATTRIBUTE: "off"})


def _blank(value: Any) -> Any:
    return None if value is None else _ERROR_MASK


def _blank_span(span: Span) -> Span:
    attrs = {k: v if isinstance(v, int | float | bool) else _ERROR_MASK
             for k, v in span.attributes.items()}  # fmt: skip
    return dataclasses.replace(
        span,
        inputs=_blank(span.inputs),
        outputs=_blank(span.outputs),
        attributes=attrs,
        error=_blank(span.error),
    )


def _blank_run(run: Run) -> Run:
    return dataclasses.replace(
        run,
        input=_blank(run.input),
        output=_blank(run.output),
        attributes={
            k: v if isinstance(v, int | float | bool) else _ERROR_MASK
            for k, v in run.attributes.items()
        },
        error=_blank(run.error),
        outcome_reason=_blank(run.outcome_reason),
    )
