"""Per-run checks as a service: check runs when they are stored, and on demand.

:class:`RunChecker` reads one run (run record and spans), extracts its
:class:`~agentdeck.core.behaviour.run_view.RunView` once, runs
:func:`~agentdeck.core.behaviour.run_checks.check_run` with the agent version's pinned spec (resolved by
the run's digest) and the latest baseline of the agent for the run's env, then stores the
findings and the run's compact summary (:mod:`agentdeck.monitor.summary`, which window checks
read instead of the spans) and updates the Prometheus counters.

Two ways in:

- :class:`MonitoringSink` wraps the store as the SDK's sink (embedded mode): it writes each
  batch, then checks the runs that the batch completed, in the exporter's background thread,
  never on the agent's thread. A monitoring failure is logged and counted; it never fails the
  write (that would make the exporter spill and re-send data that is already stored).
- :func:`on_runs_stored` is what the server's ingest path calls after writing runs.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cachetools import TTLCache

from agentdeck.core.behaviour.profile import BehaviourProfile
from agentdeck.core.behaviour.records import FindingRecord, RunSummaryRow
from agentdeck.core.behaviour.run_checks import Finding, RunCheckSettings, check_run
from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.errors import UnresolvedReferenceError
from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model import Run, Span
from agentdeck.monitor import metrics
from agentdeck.monitor.summary import summary_text
from agentdeck.store.protocol import MonitorStore, RegistryStore, Store, TraceStore

log = logging.getLogger("agentdeck.monitor")

__all__ = [
    "CheckedRun",
    "MonitoringSink",
    "RunChecker",
    "check_trace",
    "finding_id",
    "on_runs_stored",
]


def finding_id(f: Finding) -> str:
    """Stable id of a finding: checking a run again stores each finding once."""
    key = "\x1f".join((f.trace_id, f.span_id or "", f.check, f.explanation))
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True)
class CheckedRun:
    """One checked run: its view, findings, and the summary row stored for window checks."""

    run: Run
    view: RunView
    findings: tuple[Finding, ...]
    summary: RunSummaryRow


def checked_json(checked: CheckedRun) -> dict[str, Any]:
    """A checked run as ``POST /api/v1/runs/{id}/check`` and ``agentdeck check --json`` give it."""
    return {
        "trace_id": checked.run.trace_id,
        "provisional": checked.run.provisional,
        "stored": not checked.run.provisional,
        "findings": [
            {
                "span_id": f.span_id,
                "check": f.check,
                "severity": f.severity.value,
                "explanation": f.explanation,
            }
            for f in checked.findings
        ],
    }


class _Miss:
    """Not in the cache (``None`` is a cached answer: the agent has no baseline)."""


_MISS = _Miss()


class CheckerStore(RegistryStore, TraceStore, MonitorStore, Protocol):
    """What run checks use: the runs, agent specs by digest, baselines; findings and summaries
    are written back."""


class RunChecker:
    """Checks runs against their pinned spec and latest baseline; caches both.

    Specs are immutable per digest (cached forever); the latest baseline of an (agent, env)
    is re-read after ``baseline_ttl`` seconds (a :class:`cachetools.TTLCache` of at most
    ``max_baselines`` pairs), so a new baseline takes effect without a restart. Thread-safe.
    """

    def __init__(
        self,
        store: CheckerStore,
        *,
        settings: RunCheckSettings | None = None,
        baseline_ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        max_baselines: int = 4096,
    ) -> None:
        self.store = store
        self.settings = settings or RunCheckSettings()
        self.baseline_ttl = baseline_ttl
        self._lock = threading.Lock()
        self._specs: dict[str, AgentSpec | None] = {}
        self._baselines: TTLCache[tuple[str, str | None], BehaviourProfile | None] = TTLCache(
            maxsize=max_baselines, ttl=baseline_ttl, timer=clock
        )

    def spec_for(self, run: Run) -> AgentSpec | None:
        return self.spec_by_digest(run.agent_digest, run.agent_name)

    def spec_by_digest(self, digest: str | None, name: str | None = None) -> AgentSpec | None:
        if not digest:
            return None
        with self._lock:
            if digest in self._specs:
                return self._specs[digest]
        found = self.store.get_agent_by_digest(digest, name)
        spec = next((v.spec for v in found if v.digest == digest), None)
        with self._lock:
            self._specs[digest] = spec
        return spec

    def baseline_for(self, agent: str | None, env: str | None) -> BehaviourProfile | None:
        if not agent:
            return None
        key = (agent, env)
        with self._lock:
            hit = self._baselines.get(key, _MISS)
        if not isinstance(hit, _Miss):
            return hit
        rec = self.store.latest_baseline(agent, env)
        profile = (
            BehaviourProfile.from_dict(_loads(rec.profile), f"baseline {rec.name}") if rec else None
        )
        with self._lock:
            self._baselines[key] = profile
        return profile

    def check(self, run: Run, spans: Sequence[Span]) -> CheckedRun:
        """Check one run (nothing stored)."""
        view = RunView.from_run(run, spans)
        profile = self.baseline_for(run.agent_name, run.env)
        bow = profile.settings.bow_buckets if profile is not None else None
        if bow is not None and len(view.context.bow) != bow:
            view = RunView.from_run(run, spans, bow_buckets=bow)
        handed_off = {
            c.agent_digest: spec
            for c in view.tool_calls
            if c.agent_digest and (spec := self.spec_by_digest(c.agent_digest, c.agent))
        }
        found = check_run(view, self.spec_for(run), profile, self.settings, handed_off)
        row = RunSummaryRow(
            run.trace_id,
            run.agent_name,
            run.agent_digest,
            run.env,
            run.start_ns,
            summary_text(view),
        )
        return CheckedRun(run, view, tuple(found), row)

    def check_and_store(
        self, items: Sequence[tuple[Run, Sequence[Span]]], now: datetime | None = None
    ) -> list[CheckedRun]:
        """Check runs, store their findings and summaries, update metrics."""
        at = now or datetime.now(UTC)
        checked = [self.check(run, spans) for run, spans in items]
        records = [
            FindingRecord(
                finding_id(f),
                f.trace_id,
                f.span_id,
                c.run.agent_name,
                c.run.env,
                f.check,
                f.severity.value,
                f.explanation,
                at,
            )
            for c in checked
            for f in c.findings
        ]
        self.store.put_findings(records)
        self.store.put_run_summaries([c.summary for c in checked])
        for c, (_, spans) in zip(checked, items, strict=True):
            metrics.record_run(c.run.agent_name, c.run.env, c.view, c.findings)
            metrics.record_llm(c.run, spans)
        return checked


def _loads(text: str) -> dict[str, object]:
    import orjson

    value = orjson.loads(text)
    return value if isinstance(value, dict) else {}


def on_runs_stored(
    store: CheckerStore, trace_ids: Sequence[str], checker: RunChecker | None = None
) -> list[Finding]:
    """Check runs just written to ``store`` (the server's ingest hook); returns the findings.

    Runs not found or not finished (no end time) are skipped. Pass a long-lived ``checker``
    to keep its spec and baseline caches between calls.
    """
    checker = checker or RunChecker(store)
    items: list[tuple[Run, Sequence[Span]]] = [
        (run, spans)
        for run, spans in store.get_runs_with_spans(list(trace_ids))
        if run.end_ns is not None
    ]
    return [f for c in checker.check_and_store(items) for f in c.findings]


def check_trace(
    store: CheckerStore, trace_id: str, checker: RunChecker | None = None
) -> CheckedRun:
    """Check one stored run now (``agentdeck check RUN_ID``); a unique id prefix is accepted.
    Findings are stored as on arrival (idempotent), except for a provisional run (derived
    from child spans, its root not arrived): its findings are returned but not stored, since
    the real run replaces it and is checked when it arrives."""
    run = store.get_run(trace_id)
    if run is None:
        matches = store.trace_ids_with_prefix(trace_id, limit=2) if trace_id else []
        if len(matches) != 1:
            why = "no run with that id" if not matches else "id prefix is ambiguous"
            raise UnresolvedReferenceError(trace_id, why)
        run = store.get_run(matches[0])
        assert run is not None
    checker = checker or RunChecker(store)
    spans = store.get_spans(run.trace_id)
    if run.provisional:  # derived from child spans: shown, not stored (its real run will be)
        return checker.check(run, spans)
    return checker.check_and_store([(run, spans)])[0]


class MonitoringSink:
    """The store as the SDK's sink, checking each completed run after it is written.

    ``agentdeck.init(sink=MonitoringSink(store))``: the exporter's background thread calls
    :meth:`write_batch`; the write happens first and its errors propagate (so the exporter
    spills and retries as usual); the checks after it never raise (``errors`` counts them).
    """

    def __init__(self, store: Store, checker: RunChecker | None = None) -> None:
        self.store = store
        self.checker = checker or RunChecker(store)
        self.errors = 0
        self.checked = 0

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        self.store.write_batch(runs, spans)
        if not runs:
            return
        try:
            found = on_runs_stored(self.store, [r.trace_id for r in runs], self.checker)
            self.checked += len(runs)
            if found:
                log.debug("monitoring: %d findings in %d runs", len(found), len(runs))
        except Exception:  # monitoring must never fail a delivered batch
            self.errors += 1
            log.exception("monitoring: checking %d stored runs failed", len(runs))

    def close(self) -> None:
        self.store.close()
