"""Replay: re-run a recorded run's agent from its recording.

- :func:`reproduce` (``agentdeck replay RUN_ID``) resolves the run's recorded agent version by
  its digest, runs that version's entrypoint on the recorded input with every model and tool
  call served from the recording in order (:class:`~agentdeck.tracing.replay.serve.StrictReplayer`),
  and reports either a reproduction or the first step where it diverged, expected against
  actual. Once every step matched, the run's status and final output are compared too.
- :func:`compare` (``--with REF``) runs another version on the recorded input with its own
  model client; its tool calls are served from the recording when name and args match, and
  are otherwise misses (or run, with ``live_tools``). The report sets the two action
  sequences side by side.
- :func:`agreement` compares a candidate over several recorded runs (the deployment gate's
  "behavioural agreement"); :func:`recent_runs` picks the last N runs of the version deployed
  in an environment.

Replays are recorded as runs of their own, stamped ``replay.of=<trace id>`` and
``replay.mode=reproduce|with`` and with no environment (so monitoring, which reads runs by
environment, never counts them); ``agentdeck trace`` shows them like any run. Recording uses
the SDK as configured; when it is not configured, a session records into the store being
replayed from, without a policy guard (recorded policy decisions are served from the
recording). With a guard configured, the guard decides each tool call before the recording is
consulted. Reports are stored (``Store.put_replay_report``) unless ``save=False``.

Requirements on the agent: its entrypoint follows ``fn(input, *, model)``, makes its model
calls through ``model`` and its tool calls through ``@agentdeck.tool`` functions in the
calling thread (or threads that copy the context). The recorded input is the run's input as
stored (JSON data).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from agentdeck.core.errors import InputError
from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.core.spec.refs import Ref
from agentdeck.core.trace.model import Run, Span, SpanStatus
from agentdeck.core.trace.model_call import ModelClient
from agentdeck.core.trace.query import RunQuery
from agentdeck.core.trace.records import ReplayReportRecord
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry, RegistryServiceStore
from agentdeck.store.base import utcnow
from agentdeck.store.protocol import ReplayStore, TraceStore
from agentdeck.tracing.replay.entrypoint import AgentRun, run_entrypoint
from agentdeck.tracing.replay.recording import Recording, load_recording
from agentdeck.tracing.replay.report import (
    AgreementReport,
    Comparison,
    Divergence,
    DivergenceKind,
    ReplayResult,
    first_difference,
)
from agentdeck.tracing.replay.serve import (
    MatchingInterceptor,
    ReplayedModelError,
    ReplayedToolError,
    ReplayStopped,
    StrictReplayer,
)
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.code_path import recorded_code_paths
from agentdeck.tracing.sdk.guard import intercepting
from agentdeck.tracing.sdk.wire import to_json_data


class ReplayEngineStore(RegistryServiceStore, TraceStore, ReplayStore, Protocol):
    """What replay uses: the registry (agents), the recorded runs, and where reports and replayed runs go."""


__all__ = [
    "REPLAY_MODE_ATTR",
    "REPLAY_OF_ATTR",
    "agreement",
    "compare",
    "is_replay",
    "recent_runs",
    "recorded_agent",
    "replay_session",
    "reproduce",
]

REPLAY_OF_ATTR = "replay.of"
REPLAY_MODE_ATTR = "replay.mode"


def is_replay(run: Run) -> bool:
    """Whether ``run`` was recorded by a replay (monitoring and gates skip those)."""
    return REPLAY_OF_ATTR in run.attributes


class _StoreSink:
    """The store as the replay session's sink, without handing the SDK its ``close``;
    ``project``: the replayed runs are stamped with it."""

    def __init__(self, store: ReplayEngineStore, project: str | None = None) -> None:
        self.store, self.project = store, project

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        if self.project is not None:
            runs = [dataclasses.replace(r, project=self.project) for r in runs]
        self.store.write_batch(runs, spans)


@contextmanager
def replay_session(
    store: ReplayEngineStore, *, record: bool = True, project: str | None = None
) -> Iterator[None]:
    """Make sure the SDK records during the block (interception only works while recording).

    If the SDK is configured, it is used as is. Otherwise it is configured for the block to
    record into ``store`` (or, with ``record=False``, into memory, discarded), with no guard,
    and shut down afterwards; ``project``: the runs recorded are that project's.
    """
    if rec.config is not None:
        try:
            yield
        finally:
            sdk.flush(10.0)
        return
    sink = _StoreSink(store, project) if record else sdk.InMemorySink()
    sdk.init(  # bulk work: wait for room rather than drop a replayed run's spans
        sink=sink, resolver=CachingResolver(Registry(store)), schedule_delay=0.05, on_full="block"
    )
    try:
        yield
    finally:
        sdk.shutdown(10.0)


def recorded_agent(store: ReplayEngineStore, run: Run) -> ResolvedAgent:
    """The exact agent version a run is stamped with, resolved by its digest (no environment)."""
    if not run.agent_name or not run.agent_digest:
        raise InputError(
            f"run {run.trace_id}: not stamped with a registered agent version (no agent digest): "
            "cannot tell which code to replay"
        )
    av = Registry(store).get(Ref(run.agent_name, digest=run.agent_digest))
    return ResolvedAgent(av.name, av.version, av.digest, av.spec)


def _candidate(store: ReplayEngineStore, candidate: str | ResolvedAgent) -> ResolvedAgent:
    agent = Registry(store).resolve(candidate) if isinstance(candidate, str) else candidate
    return dataclasses.replace(agent, env=None, deployment_id=None)


def _attrs(source: str, mode: str) -> dict[str, Any]:
    return {REPLAY_OF_ATTR: source, REPLAY_MODE_ATTR: mode}


def _label(agent: ResolvedAgent) -> str:
    return f"{agent.name}@{agent.version}" if agent.version else f"{agent.name}@{agent.digest[:19]}"


# -- reproduce ---------------------------------------------------------------------------------


def reproduce(
    store: ReplayEngineStore,
    run_id: str,
    *,
    paths: Sequence[Path] = (),
    save: bool = True,
    record: bool = True,
    project: str | None = None,
) -> ReplayResult:
    """Re-run ``run_id``'s recorded version with every call served from the recording;
    ``project``: the replayed run is recorded in that project."""
    recording = load_recording(store, run_id)
    agent = recorded_agent(store, recording.run)
    replayer = StrictReplayer(recording.steps)
    outcome: AgentRun | None = None
    with replay_session(store, record=record, project=project), intercepting(replayer):
        try:
            outcome = run_entrypoint(agent, recording.run.input, model=replayer,
                                     paths=(*paths, *recorded_code_paths(recording.run.attributes)),
                                     attributes=_attrs(recording.trace_id, "reproduce"))  # fmt: skip
        except ReplayStopped:
            outcome = None
    divergence = replayer.divergence or _end_divergence(recording, replayer, outcome)
    result = ReplayResult(
        source_trace_id=recording.trace_id,
        replay_trace_id=(outcome.trace_id if outcome is not None else replayer.trace_id) or None,
        agent=_label(agent),
        agent_digest=agent.digest,
        steps=len(recording.steps),
        served=replayer.served,
        divergence=divergence,
    )
    if save:
        result = dataclasses.replace(result, report_id=_save(store, result, agent.name))
    return result


def _error_text(error: BaseException | None) -> str | None:
    """The run error as recorded; a served recorded error reads as the recorded one."""
    if error is None:
        return None
    if isinstance(error, ReplayedToolError | ReplayedModelError):
        return error.recorded
    return rec.describe_error(error)


def _end_divergence(
    recording: Recording, replayer: StrictReplayer, outcome: AgentRun | None
) -> Divergence | None:
    """Checks made when the replay ended: every step reached, same status, same output."""
    if outcome is None:  # stopped without a recorded divergence cannot happen; be explicit
        return None
    end = len(recording.steps) + 1
    missing = replayer.remaining()
    if missing is not None:
        return Divergence(missing.number, DivergenceKind.MISSING, missing.label(),
                          "the run ended", "", missing.label(), None)  # fmt: skip
    run = recording.run
    actual_error = _error_text(outcome.error)
    expected_error = run.error if run.status is SpanStatus.ERROR else None
    if expected_error != actual_error:
        return Divergence(end, DivergenceKind.STATUS, "run status", "run status", "error",
                          expected_error, actual_error)  # fmt: skip
    found = first_difference(run.output, to_json_data(outcome.output), "output")
    if found is not None:
        return Divergence(end, DivergenceKind.OUTPUT, "run output", "run output", *found)
    return None


# -- compare (--with) ------------------------------------------------------------------------


def compare(
    store: ReplayEngineStore,
    run_id: str,
    candidate: str | ResolvedAgent,
    *,
    live_tools: bool = False,
    paths: Sequence[Path] = (),
    model: ModelClient | None = None,
    save: bool = True,
    record: bool = True,
    project: str | None = None,
) -> Comparison:
    """Run ``candidate`` on ``run_id``'s recorded input; set its actions beside the recording's.

    ``model`` defaults to the candidate's own client (its module's ``model_client(spec)``);
    ``project``: the candidate's run is recorded in that project.
    """
    agent = _candidate(store, candidate)
    with replay_session(store, record=record, project=project):
        result = _compare_one(load_recording(store, run_id), agent, live_tools, paths, model)
    if save:
        result = dataclasses.replace(result, report_id=_save(store, result, agent.name))
    return result


def _compare_one(
    recording: Recording,
    agent: ResolvedAgent,
    live_tools: bool | Collection[str],
    paths: Sequence[Path],
    model: ModelClient | None,
    mode: str = "with",
) -> Comparison:
    icpt = MatchingInterceptor(recording.steps, live_tools=live_tools)
    with intercepting(icpt):
        out = run_entrypoint(agent, recording.run.input, model=model,
                             paths=(*paths, *recorded_code_paths(recording.run.attributes)),
                             attributes=_attrs(recording.trace_id, mode))  # fmt: skip
    run = recording.run
    return Comparison(
        source_trace_id=recording.trace_id,
        replay_trace_id=out.trace_id or None,
        recorded_agent=recording.agent_label,
        candidate_agent=_label(agent),
        candidate_digest=agent.digest,
        recorded=recording.actions,
        candidate=tuple(icpt.calls),
        recorded_error=run.error if run.status is SpanStatus.ERROR else None,
        candidate_error=None if out.error is None else rec.describe_error(out.error),
        recorded_output=run.output,
        candidate_output=to_json_data(out.output),
    )


def agreement(
    store: ReplayEngineStore,
    run_ids: Sequence[str],
    candidate: str | ResolvedAgent,
    *,
    live_tools: bool = False,
    paths: Sequence[Path] = (),
    model: ModelClient | None = None,
    save: bool = True,
    record: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> AgreementReport:
    """Compare ``candidate`` against each recorded run; one stored report for the whole set.

    ``progress(done, total)`` is called after each run (for a progress bar).
    """
    agent = _candidate(store, candidate)
    recordings = [load_recording(store, r) for r in run_ids]  # bad ids fail before any run
    comparisons: list[Comparison] = []
    with replay_session(store, record=record):
        for i, recording in enumerate(recordings, 1):
            comparisons.append(_compare_one(recording, agent, live_tools, paths, model))
            if progress is not None:
                progress(i, len(recordings))
    report = AgreementReport(_label(agent), agent.digest, tuple(comparisons))
    if save:
        report = dataclasses.replace(report, report_id=_save(store, report, agent.name))
    return report


def recent_runs(
    store: ReplayEngineStore, agent_name: str, env: str = "production", limit: int = 20
) -> list[str]:
    """Trace ids of the last ``limit`` runs, in ``env``, of the version deployed there now
    (newest first; replays excluded). Empty when nothing is deployed."""
    head = store.head(agent_name, env)
    if head is None:
        return []
    found = store.find_runs(
        RunQuery(agent_name=agent_name, agent_digest=head.agent_digest, env=env, limit=limit)
    )
    return [r.trace_id for r in found if not is_replay(r)]


# -- storing reports -----------------------------------------------------------------------


def _save(
    store: ReplayEngineStore, report: ReplayResult | Comparison | AgreementReport, agent: str
) -> str:
    report_id = uuid.uuid4().hex
    if isinstance(report, ReplayResult):
        kind, source, replay_id, digest = (
            "reproduce",
            report.source_trace_id,
            report.replay_trace_id,
            report.agent_digest,
        )
        outcome, score = ("reproduced" if report.reproduced else "diverged"), None
    elif isinstance(report, Comparison):
        kind, source, replay_id, digest = (
            "with",
            report.source_trace_id,
            report.replay_trace_id,
            report.candidate_digest,
        )
        outcome, score = ("agreed" if report.agreed else "disagreed"), report.similarity
    else:
        kind, source, replay_id, digest = "agreement", None, None, report.candidate_digest
        outcome = "agreed" if report.runs and not report.disagreements else "disagreed"
        score = report.agreement
    body = dict(report.to_dict(), report_id=report_id)
    store.put_replay_report(
        ReplayReportRecord(
            report_id, kind, source, replay_id, agent, digest, outcome, score, utcnow(), body
        )
    )
    return report_id
