"""Behaviour profiles of stored runs: selecting runs, back-filling summaries, baselines.

Profiles are built from run summaries (:mod:`agentdeck.monitor.summary`), never from raw span
JSON, except for runs stored without monitoring (bulk imports, a server without the ingest
hook): those are summarized from their spans once, on first use, and the summaries kept.

A baseline is a named, stored profile of a selection of runs: an agent (all versions for a bare
name, one exact digest for ``name@N``/``name@sha256:...``/``name@ENV``), optionally one env,
and either a time range or one eval run (runs whose attribute :data:`EVAL_RUN_ATTRIBUTE`
equals the id: the evals runner stamps it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import orjson

from agentdeck.core.behaviour.profile import BehaviourProfile, ProfileBuilder, ProfileSettings
from agentdeck.core.behaviour.records import BaselineRecord, RunSummaryRow
from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.errors import ConflictError, InputError, UnresolvedReferenceError
from agentdeck.core.spec.refs import parse_ref
from agentdeck.monitor.summary import summary_text, view_from_summary
from agentdeck.registry.service import Registry, RegistryServiceStore
from agentdeck.store.protocol import MonitorStore, TraceStore


#: The run attribute that ties a run to an eval run (``--eval-run ID`` selects on it).
class ProfileStore(RegistryServiceStore, TraceStore, MonitorStore, Protocol):
    """What profiles use: the registry (agent refs), runs and their summaries, baselines."""


EVAL_RUN_ATTRIBUTE = "eval.run_id"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_BACKFILL_CHUNK = 1000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RunSelection:
    """Which stored runs a profile is built from (times are UTC, ``until`` exclusive)."""

    agent_name: str
    agent_digest: str | None = None
    env: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    trace_ids: tuple[str, ...] | None = None

    def describe(self) -> str:
        parts = [self.agent_name + (f"@{self.agent_digest}" if self.agent_digest else "")]
        if self.env:
            parts.append(f"env={self.env}")
        if self.since or self.until:
            parts.append(f"from={_iso(self.since)} to={_iso(self.until)}")
        if self.trace_ids is not None:
            parts.append(f"{len(self.trace_ids)} listed runs")
        return " ".join(parts)

    @property
    def since_ns(self) -> int | None:
        return _ns(self.since)

    @property
    def until_ns(self) -> int | None:
        return _ns(self.until)


def _iso(t: datetime | None) -> str:
    return t.isoformat() if t else "-"


def _ns(t: datetime | None) -> int | None:
    return None if t is None else int(t.timestamp() * 1_000_000) * 1000


def agent_filter(store: ProfileStore, ref: str) -> tuple[str, str | None]:
    """(agent name, digest or ``None``): a bare name selects every version."""
    r = parse_ref(ref)
    if r.version is None and r.digest is None and r.env is None:
        return r.name, None
    av = Registry(store).get(r)
    return av.name, av.digest


def backfill_summaries(
    store: ProfileStore, sel: RunSelection, progress: Progress | None = None
) -> int:
    """Summarize (from their spans) the selected finished runs that have no summary; returns
    how many. Cheap when every run was checked on arrival (one indexed query)."""
    done = 0
    while True:
        ids = store.runs_without_summary(
            sel.agent_name,
            sel.env,
            sel.since_ns,
            sel.until_ns,
            sel.agent_digest,
            sel.trace_ids,
            limit=_BACKFILL_CHUNK,
        )
        if not ids:
            return done
        rows = []
        for tid in ids:
            run = store.get_run(tid)
            if run is None:  # pragma: no cover - listed a moment ago
                continue
            view = RunView.from_run(run, store.get_spans(tid))
            rows.append(
                RunSummaryRow(
                    tid, run.agent_name, run.agent_digest, run.env, run.start_ns, summary_text(view)
                )
            )
        store.put_run_summaries(rows)
        done += len(rows)
        if progress is not None:
            progress(len(rows))
        if len(ids) < _BACKFILL_CHUNK:
            return done


def build_stored_profile(
    store: ProfileStore,
    sel: RunSelection,
    settings: ProfileSettings | None = None,
    progress: Progress | None = None,
) -> BehaviourProfile:
    """The profile of the selected runs, from their summaries (back-filled first)."""
    backfill_summaries(store, sel, progress)
    builder = ProfileBuilder(settings)
    texts = store.iter_run_summaries(
        sel.agent_name, sel.env, sel.since_ns, sel.until_ns, sel.agent_digest, sel.trace_ids
    )
    for n, text in enumerate(texts, 1):
        builder.add(view_from_summary(text))
        if progress is not None and n % 5000 == 0:
            progress(5000)
    return builder.finish()


def select_runs(
    store: ProfileStore,
    agent: str,
    env: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    eval_run: str | None = None,
) -> RunSelection:
    """Validate the options of ``baseline create`` into a selection."""
    if eval_run is not None and (since is not None or until is not None):
        raise InputError("--eval-run: give either --eval-run or --from/--to, not both")
    if since is not None and until is not None and since >= until:
        raise InputError("--from: must be before --to")
    name, digest = agent_filter(store, agent)
    ids = None
    if eval_run is not None:
        ids = tuple(store.trace_ids_with_attribute(EVAL_RUN_ATTRIBUTE, eval_run, name))
        if not ids:
            raise UnresolvedReferenceError(
                eval_run, f"no runs of {name!r} have the attribute {EVAL_RUN_ATTRIBUTE}={eval_run}"
            )
    return RunSelection(name, digest, env, since, until, ids)


def create_baseline(
    store: ProfileStore,
    name: str,
    sel: RunSelection,
    actor: str,
    settings: ProfileSettings | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> tuple[BaselineRecord, BehaviourProfile]:
    """Compute the profile of ``sel`` and store it as baseline ``name``."""
    if not _NAME.match(name):
        raise InputError(
            f"baseline name {name!r}: use letters, digits, '.', '_' and '-' (at most 100)"
        )
    if store.get_baseline(name) is not None:
        raise ConflictError(f"a baseline named {name!r} already exists")
    profile = build_stored_profile(store, sel, settings, progress)
    if profile.n_runs == 0:
        raise InputError(f"baseline {name}: no finished runs match {sel.describe()}")
    rec = BaselineRecord(
        name=name,
        agent_name=sel.agent_name,
        agent_digest=sel.agent_digest,
        env=sel.env,
        selection=sel.describe(),
        n_runs=profile.n_runs,
        created_at=now or datetime.now(UTC),
        created_by=actor,
        profile=orjson.dumps(profile.to_dict()).decode(),
    )
    store.put_baseline(rec)
    return rec, profile


def load_baseline(store: ProfileStore, name: str) -> tuple[BaselineRecord, BehaviourProfile]:
    rec = store.get_baseline(name)
    if rec is None:
        raise UnresolvedReferenceError(
            name, "no baseline with that name (see agentdeck baseline list)"
        )
    return rec, BehaviourProfile.from_dict(orjson.loads(rec.profile), f"baseline {name}")


def latest_baseline(
    store: ProfileStore, agent_name: str, env: str | None
) -> tuple[BaselineRecord, BehaviourProfile]:
    rec = store.latest_baseline(agent_name, env)
    if rec is None:
        where = f" for env {env!r}" if env else ""
        raise UnresolvedReferenceError(
            agent_name, f"no baseline{where}; create one with agentdeck baseline create"
        )
    return rec, BehaviourProfile.from_dict(orjson.loads(rec.profile), f"baseline {rec.name}")


def baseline_summary(rec: BaselineRecord, profile: BehaviourProfile) -> dict[str, object]:
    """What ``baseline show`` prints: the record and the profile's headline numbers."""
    steps = profile.numeric.get("steps")
    return {
        "name": rec.name,
        "agent": rec.agent_name,
        "agent_digest": rec.agent_digest,
        "env": rec.env,
        "selection": rec.selection,
        "runs": rec.n_runs,
        "created_at": rec.created_at.isoformat(),
        "created_by": rec.created_by,
        "completion_rate": profile.completion_rate,
        "error_rate": profile.error_rate,
        "outcome_success_rate": profile.outcome_success_rate,
        "outcomes_known": profile.outcomes[1],
        "outcome_score_quantiles": _score_quantiles(profile),
        "args_validity_rate": profile.validity_rate(),
        "steps_range": list(profile.steps_range) if profile.steps_range else None,
        "mean_steps": steps.mean if steps and steps.count else None,
        "tool_frequencies": profile.tool_frequencies(),
        "policy_effects": dict(profile.policy_effects),
        "response_models": dict(profile.response_models),
        "sequence_threshold": profile.sequence_threshold,
    }


def _score_quantiles(profile: BehaviourProfile) -> dict[str, float] | None:
    scores = profile.numeric.get("outcome_score")
    if scores is None or not scores.count:
        return None
    return {f"p{round(q * 100)}": v for q, v in scores.quantiles((0.1, 0.5, 0.9)).items()}
