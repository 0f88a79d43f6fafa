"""Shadow passes: the candidate of a shadow canary runs on copies of the stable arm's inputs.

While a shadow (``agentdeck promote REF --to ENV --canary N --shadow``) is running, each
:func:`shadow_pass` takes the stable deployment's finished runs since the shadow started that
were not shadowed yet, keeps a sample of them (``shadow.sample`` percent, chosen by a stable
hash of the canary id and the run id, so every replica and every pass picks the same runs), at
most ``shadow.max_per_pass`` of them, and runs the candidate on each run's recorded input with
the replay machinery (:func:`agentdeck.tracing.replay.engine._compare_one`):

- model calls are live, through the candidate's own model client (its module's
  ``model_client(spec)``);
- tool calls are served from the stable run's recorded responses when name and arguments
  match; a call that matches none is a miss (the tool does not run, the candidate sees an
  error); tools named in ``shadow.live_tools`` (read-only ones) run live;
- nothing is answered to any user: the output stays on the shadow run.

The shadow run is recorded as a run of the candidate with arm ``shadow``, the canary's id as
its deployment, no environment and ``replay.of=<stable trace id>``, ``replay.mode=shadow``; the
pair is stored as a replay report of kind ``shadow`` (the ``--with`` comparison, with the
canary's id). The judgement (:meth:`agentdeck.registry.canary.Canaries.evaluate`) reads the
pairs as the two arms.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path

from agentdeck.core.deploy.canary import Canary
from agentdeck.core.spec.agent import CanarySplit, ResolvedAgent
from agentdeck.core.spec.arms import SHADOW, in_candidate
from agentdeck.core.trace.model_call import ModelClient
from agentdeck.core.trace.records import ReplayReportRecord
from agentdeck.registry.service import Registry
from agentdeck.store.base import utcnow
from agentdeck.store.protocol import Store
from agentdeck.tracing.replay.engine import _compare_one, replay_session
from agentdeck.tracing.replay.recording import load_recording
from agentdeck.tracing.replay.report import Comparison

__all__ = ["sampled", "shadow_pass"]

log = logging.getLogger("agentdeck.replay.shadow")


def sampled(canary: Canary, trace_id: str) -> bool:
    """Whether the stable run ``trace_id`` is in the shadow's sample (a stable hash)."""
    return in_candidate(canary.id, f"shadow:{trace_id}", canary.config.shadow.sample)


def _candidate(store: Store, canary: Canary) -> ResolvedAgent:
    av = Registry(store).get(f"{canary.agent_name}@{canary.candidate_version}")
    cand = ResolvedAgent(av.name, av.version, av.digest, av.spec)
    # the split makes the SDK stamp the run: arm shadow, the canary as its deployment
    split = CanarySplit(canary.id, 0.0, "run", cand, shadow=True)
    return dataclasses.replace(cand, canary=split)


def shadow_pass(
    store: Store,
    canary: Canary,
    *,
    model: ModelClient | None = None,
    paths: Sequence[Path] = (),
) -> list[Comparison]:
    """Shadow the next sampled stable runs of ``canary`` (at most ``max_per_pass``)."""
    cfg = canary.config.shadow
    if not canary.shadow or not canary.state.active or canary.state.value != "running":
        return []
    done = {r.shadow_of for r in store.canary_runs(canary) if r.arm == SHADOW}
    todo = [t for t in store.shadow_sources(canary) if t not in done and sampled(canary, t)]
    todo = todo[: cfg.max_per_pass]
    if not todo:
        return []
    agent = _candidate(store, canary)
    out: list[Comparison] = []
    with replay_session(store):
        for trace_id in todo:
            try:
                recording = load_recording(store, trace_id)
                c = _compare_one(recording, agent, cfg.live_tools, paths, model, mode=SHADOW)
            except Exception:
                log.exception("shadow of run %s failed", trace_id)
                continue
            out.append(c)
    for c in out:
        _save(store, canary, c)
    return out


def _save(store: Store, canary: Canary, c: Comparison) -> str:
    report_id = uuid.uuid4().hex
    body = dict(c.to_dict(), report_id=report_id, canary=canary.id)
    store.put_replay_report(
        ReplayReportRecord(
            report_id, SHADOW, c.source_trace_id, c.replay_trace_id, canary.agent_name,
            c.candidate_digest, "agreed" if c.agreed else "disagreed", c.similarity, utcnow(),
            body,
        )
    )  # fmt: skip
    return report_id
