"""What ``agentdeck.stats()`` returns: the exporter's counters plus the SDK's own health."""

from __future__ import annotations

from dataclasses import dataclass, fields

from agentdeck.tracing.sdk.exporter import ExporterStats

__all__ = ["SdkStats"]


@dataclass(frozen=True, slots=True)
class SdkStats(ExporterStats):
    """:class:`ExporterStats`, and: why the last ``agentdeck.init`` failed (None if it did
    not; the SDK then runs on a fallback whose runs naming an agent are unresolvable), and
    how many runs named an agent that could not be resolved."""

    init_error: str | None = None
    resolve_errors: int = 0

    @classmethod
    def of(cls, base: ExporterStats, init_error: str | None, resolve_errors: int) -> SdkStats:
        values = {f.name: getattr(base, f.name) for f in fields(base)}
        return cls(**values, init_error=init_error, resolve_errors=resolve_errors)
