"""``agentdeck import``'s engine: check a file whole, then record it through the configured SDK.

::

    agentdeck.init(sink=store, resolver=..., on_full="block")   # never drops
    fmt, units = check_file(path)                                 # nothing recorded on error
    report = import_file(path, agent="support-bot@1", fmt=fmt, progress=bar.advance)

The file is read twice: once to check every line (a bad line raises
:class:`~agentdeck.tracing.imports.files.ImportFileError` before anything is recorded) and once
to record, so memory stays bounded by one conversation (OTLP files are decoded whole, as one
request, so that traces split across lines get one run). OpenAI JSONL conversations go through
:func:`agentdeck.tracing.sdk.conversation.record_parsed`; OTLP spans keep what the producer
recorded, their runs are stamped with the agent, every tool call is validated against the pinned
schemas and decided by the guard in record-only mode, and everything is marked imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import count
from pathlib import Path

from agentdeck.core.errors import InputError
from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.core.trace.conversation import IMPORTED, TIMING
from agentdeck.core.trace.model import Run, Span, SpanKind
from agentdeck.core.types import JSON
from agentdeck.tracing.imports.files import Format, detect_format
from agentdeck.tracing.imports.openai_jsonl import conversations
from agentdeck.tracing.imports.otlp_json import read_otlp_file
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.conversation import record_parsed, review_call
from agentdeck.tracing.sdk.recorder import RunRecord, Scope

__all__ = ["ImportReport", "check_file", "import_file"]

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import recorded (``failed``: conversations the SDK could not record)."""

    file: str
    format: str
    runs: int
    spans: int
    tool_calls: int
    invalid_calls: int
    policy_hits: int
    failed: int
    seconds: float

    def to_dict(self) -> dict[str, JSON]:
        return {"file": self.file, "format": self.format, "runs": self.runs, "spans": self.spans,
                "tool_calls": self.tool_calls, "invalid_calls": self.invalid_calls,
                "policy_hits": self.policy_hits, "failed": self.failed,
                "seconds": round(self.seconds, 3)}  # fmt: skip


def check_file(path: Path, fmt: Format | None = None) -> tuple[Format, int]:
    """The file's format and how many runs it holds; raises on the first bad line."""
    chosen = fmt or detect_format(path)
    if chosen == "openai":
        return chosen, sum(1 for _ in conversations(path))
    result = read_otlp_file(path)
    return chosen, len(result.runs) + len(result.provisional_runs)


def import_file(
    path: Path, *, agent: str, fmt: Format, progress: Progress | None = None
) -> ImportReport:
    """Record every run of ``path`` (checked already) as runs of ``agent``; needs ``init``."""
    cfg = rec.config
    if cfg is None:
        raise InputError("import: the SDK is not initialised (agentdeck.init)")
    t0 = time.perf_counter()
    if fmt == "openai":
        runs = spans = calls = invalid = hits = failed = 0
        for _, conv in conversations(path):
            got = record_parsed(conv, agent)
            if got is None:
                failed += 1
            else:
                runs += 1
                spans += got.spans
                calls += got.tool_calls
                invalid += got.invalid_calls
                hits += got.policy_hits
            if progress is not None:
                progress(1)
        return ImportReport(str(path), fmt, runs, spans, calls, invalid, hits, failed,
                            time.perf_counter() - t0)  # fmt: skip
    return _import_otlp(cfg, path, agent, progress, t0)


def _import_otlp(
    cfg: rec.Config, path: Path, agent: str, progress: Progress | None, t0: float
) -> ImportReport:
    result = read_otlp_file(path)
    res = rec.resolve_agent(agent, cfg)
    a = res.agent
    env = (a.env if a is not None else None) or cfg.env
    mark: dict[str, JSON] = {IMPORTED: True, TIMING: "original"}
    stamp: dict[str, JSON] = {**(res.stamp(cfg.on_unresolved) or {}), **mark}
    by_trace: dict[str, list[Span]] = {}
    for s in result.spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    runs = spans = calls = invalid = hits = 0
    for run in (*result.runs, *result.provisional_runs):
        members = sorted(by_trace.get(run.trace_id, ()), key=lambda s: s.seq)
        run_rec = RunRecord(run.trace_id)
        run_rec.seq = count(max((s.seq for s in members), default=0) + 1)
        scope = Scope(run_rec, a, env, run.root_span_id or "", res.error, dict(stamp))
        for s in members:
            attrs = {**s.attributes, **stamp}
            if s.kind is SpanKind.TOOL:
                args = s.inputs.get("args") if isinstance(s.inputs, dict) else None
                review = review_call(cfg, scope, s.tool_name or s.name, args, s.span_id,
                                     s.start_ns, s.end_ns, (s.start_ns - run.start_ns) / 1e9)  # fmt: skip
                attrs.update(review.attributes)
                calls += 1
                invalid += review.invalid
                hits += review.policy_hits
            cfg.exporter.submit(replace(s, attributes=attrs))
            spans += 1
        cfg.exporter.submit(_stamped(run, agent, a, env, stamp))
        runs += 1
        if progress is not None:
            progress(1)
    return ImportReport(str(path), "otlp", runs, spans, calls, invalid, hits, 0,
                        time.perf_counter() - t0)  # fmt: skip


def _stamped(
    run: Run, ref: str, a: ResolvedAgent | None, env: str | None, stamp: dict[str, JSON]
) -> Run:
    attrs = {**run.attributes, **stamp, "agent.ref": ref}
    if a is not None:
        attrs.update({"agent.name": a.name, "agent.digest": a.digest})
        return replace(run, agent_name=a.name, agent_version=a.version or None,
                       agent_digest=a.digest, env=env, attributes=attrs)  # fmt: skip
    return replace(run, agent_name=ref.split("@", 1)[0], env=env or run.env, attributes=attrs)
