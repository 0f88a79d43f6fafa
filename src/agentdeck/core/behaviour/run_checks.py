"""Per-run checks: flag one bad run, against its pinned spec and/or a baseline profile.

:func:`check_run` returns :class:`Finding`s, each naming the run, the span, the check, a
severity and an explanation. Checks (docs/monitoring.md has the details):

==========================  ===================================================  ==========
check                       fires when                                           severity
==========================  ===================================================  ==========
``unknown_tool``            a tool not in the spec (or, without a spec, never    critical /
                            seen in the baseline) was called                     warning
``invalid_args``            ``tool.args_valid`` is false, or (unrecorded) the    warning
                            arguments fail the tool's pinned input schema
``policy_denial``           a policy span's effect is ``deny``                   warning
                            (``require_approval``: info)
``response_schema``         a tool response fails its pinned output schema       warning /
                            (warning) or the baseline's inferred schema (info)   info
``loop``                    the same tool with the same arguments more than      warning
                            ``loop_max_repeats`` times
``step_count``              tool calls outside the baseline's [min, max] range   warning
``improbable_sequence``     the action sequence's mean negative log-probability  warning
                            under the baseline transition model exceeds the
                            baseline's threshold (its 99.5th percentile)
``task_incomplete``         the run errored (critical) or ended without output   critical /
                            or OK status (warning)                               warning
``model_mismatch``          an LLM response came from another model id than the  critical
                            spec pins
``tool_definitions``        the tools offered to the model differ from the       critical /
                            spec's (an unknown tool or a changed input schema:   warning /
                            critical / warning; a pinned tool not offered: info) info
``outcome_failure``         the run's outcome is a failure and no tool error     warning
                            explains it: one finding per difference from the
                            baseline (missing expected call, unusual transition,
                            policy warning, early stop)
``recovered_error``         a tool call failed and a later call of the same tool info
                            succeeded
==========================  ===================================================  ==========

A tool called by a handed-off agent (under a nested ``agent`` span) is checked against that
agent's spec (``specs``, by digest) when known, and is never an ``unknown_tool`` of the run's
own agent.

Schemas are validated with fastjsonschema, compiled once per schema digest (an inferred
schema's ``required`` lists only fields present in every baseline sample, so a response
missing one of those fails it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from agentdeck.core.behaviour.failure_explain import explain_failure
from agentdeck.core.behaviour.profile import BehaviourProfile, RunView
from agentdeck.core.spec.agent import AgentSpec, ToolSpec
from agentdeck.core.spec.canonical import digest
from agentdeck.core.spec.schema_check import schema_errors
from agentdeck.core.trace.model import SpanStatus
from agentdeck.core.types import JSON


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one run; ``span_id`` is ``None`` for run-level findings."""

    trace_id: str
    span_id: str | None
    check: str
    severity: Severity
    explanation: str


@dataclass(frozen=True, slots=True)
class RunCheckSettings:
    """``loop_max_repeats``: identical calls allowed before ``loop`` fires (k);
    ``step_slack``: steps allowed beyond the baseline's range on either side."""

    loop_max_repeats: int = 3
    step_slack: int = 0


def _offered(tool: JSON) -> tuple[str | None, JSON]:
    """Name and parameter schema of an offered tool in the OpenAI, Anthropic or plain shape."""
    if not isinstance(tool, Mapping):
        return None, None
    fn = tool.get("function")
    if isinstance(fn, Mapping):
        return fn.get("name"), fn.get("parameters")
    return tool.get("name"), tool.get("input_schema", tool.get("parameters"))


def _version_creep(view: RunView, spec: AgentSpec, out: list[Finding]) -> None:
    tid = view.trace_id
    pinned = {t.name: t for t in spec.tools}
    seen_defs: set[str] = set()
    for llm in view.llm_calls:
        if llm.response_model is not None and llm.response_model != spec.model.id:
            out.append(
                Finding(
                    tid,
                    llm.span_id,
                    "model_mismatch",
                    Severity.CRITICAL,
                    f"the response came from model {llm.response_model!r}, "
                    f"the spec pins {spec.model.id!r}",
                )
            )
        if not llm.offered_tools:
            continue
        offered = dict(_offered(t) for t in llm.offered_tools)
        key = digest({str(k): v for k, v in offered.items()})
        if key in seen_defs:
            continue  # the same definitions were already checked in this run
        seen_defs.add(key)
        for name, params in sorted(offered.items(), key=lambda kv: str(kv[0])):
            t = pinned.get(str(name))
            if t is None:
                out.append(
                    Finding(
                        tid,
                        llm.span_id,
                        "tool_definitions",
                        Severity.CRITICAL,
                        f"tool {name!r} was offered to the model but is not in the spec",
                    )
                )
            elif (
                t.input_schema is not None
                and params is not None
                and digest(params) != digest(dict(t.input_schema))
            ):
                out.append(
                    Finding(
                        tid,
                        llm.span_id,
                        "tool_definitions",
                        Severity.WARNING,
                        f"the input schema of tool {name!r} offered to the model "
                        "differs from the pinned one",
                    )
                )
        missing = sorted(set(pinned) - {str(k) for k in offered})
        if missing:
            out.append(
                Finding(
                    tid,
                    llm.span_id,
                    "tool_definitions",
                    Severity.INFO,
                    f"pinned tools not offered to the model: {', '.join(missing)}",
                )
            )


def _tool_checks(
    view: RunView,
    spec: AgentSpec | None,
    profile: BehaviourProfile | None,
    settings: RunCheckSettings,
    out: list[Finding],
    specs: Mapping[str, AgentSpec] | None = None,
) -> None:
    tid = view.trace_id
    known_profile = set(profile.tool_calls.counts) if profile is not None else set()
    repeats: Counter[tuple[str, str]] = Counter()
    for call in view.tool_calls:
        own_spec = spec
        if call.agent is not None:  # a handed-off agent's call: its own spec, if known
            own_spec = (specs or {}).get(call.agent_digest or "")
        tspec: ToolSpec | None = own_spec.tool(call.tool) if own_spec is not None else None
        if call.recovered:
            out.append(
                Finding(
                    tid,
                    call.span_id,
                    "recovered_error",
                    Severity.INFO,
                    f"{call.tool!r} failed and a later call of {call.tool!r} succeeded (recovered)",
                )
            )
        if own_spec is not None and tspec is None:
            out.append(
                Finding(
                    tid,
                    call.span_id,
                    "unknown_tool",
                    Severity.CRITICAL,
                    f"tool {call.tool!r} is not in the agent spec"
                    + (f" of {call.agent!r}" if call.agent else ""),
                )
            )
        elif (
            own_spec is None
            and call.agent is None
            and profile is not None
            and call.tool not in known_profile
        ):
            out.append(
                Finding(
                    tid,
                    call.span_id,
                    "unknown_tool",
                    Severity.WARNING,
                    f"tool {call.tool!r} was never called in the baseline",
                )
            )
        if call.args_valid is False:
            out.append(
                Finding(
                    tid,
                    call.span_id,
                    "invalid_args",
                    Severity.WARNING,
                    f"arguments of {call.tool!r} were recorded as invalid",
                )
            )
        elif call.args_valid is None and tspec is not None and tspec.input_schema is not None:
            err = schema_errors(tspec.input_schema, call.args)
            if err:
                out.append(
                    Finding(
                        tid,
                        call.span_id,
                        "invalid_args",
                        Severity.WARNING,
                        f"arguments of {call.tool!r} fail the pinned input schema: {err}",
                    )
                )
        if call.has_result:
            pinned_out = tspec.output_schema if tspec is not None else None
            if pinned_out is not None:
                err = schema_errors(pinned_out, call.result)
                if err:
                    out.append(
                        Finding(
                            tid,
                            call.span_id,
                            "response_schema",
                            Severity.WARNING,
                            f"response of {call.tool!r} fails its pinned output schema: {err}",
                        )
                    )
            elif profile is not None and profile.response_schemas.get(call.tool):
                err = schema_errors(profile.response_schemas[call.tool], call.result)
                if err:
                    out.append(
                        Finding(
                            tid,
                            call.span_id,
                            "response_schema",
                            Severity.INFO,
                            f"response of {call.tool!r} does not match the schema inferred "
                            f"from the baseline: {err}",
                        )
                    )
        repeats[(call.tool, call.args_key)] += 1
        if repeats[(call.tool, call.args_key)] == settings.loop_max_repeats + 1:
            out.append(
                Finding(
                    tid,
                    call.span_id,
                    "loop",
                    Severity.WARNING,
                    f"{call.tool!r} called with the same arguments more than "
                    f"{settings.loop_max_repeats} times",
                )
            )


def _profile_checks(
    view: RunView, profile: BehaviourProfile, settings: RunCheckSettings, out: list[Finding]
) -> None:
    tid = view.trace_id
    rng = profile.steps_range
    n = len(view.tool_calls)
    if rng is not None and not (rng[0] - settings.step_slack <= n <= rng[1] + settings.step_slack):
        out.append(
            Finding(
                tid,
                None,
                "step_count",
                Severity.WARNING,
                f"{n} tool calls; the baseline's runs made {rng[0]} to {rng[1]}",
            )
        )
    if profile.n_runs:
        score = profile.transition_model().score(view.actions)
        if score > profile.sequence_threshold:
            seq = " -> ".join(view.actions) or "(no tool calls)"
            out.append(
                Finding(
                    tid,
                    None,
                    "improbable_sequence",
                    Severity.WARNING,
                    f"action sequence {seq} scores {score:.2f} nats per transition, above "
                    f"the baseline's threshold {profile.sequence_threshold:.2f} "
                    f"(its {profile.settings.sequence_quantile:.1%} quantile)",
                )
            )


def check_run(
    view: RunView,
    spec: AgentSpec | None = None,
    profile: BehaviourProfile | None = None,
    settings: RunCheckSettings | None = None,
    specs: Mapping[str, AgentSpec] | None = None,
) -> list[Finding]:
    """Every finding for one run. Spec-based checks need ``spec`` (``specs``: handed-off
    agents' specs by digest); baseline-based checks (step count, improbable sequence,
    inferred response schema, what a failed run missed) need ``profile``."""
    s = settings or RunCheckSettings()
    out: list[Finding] = []
    _tool_checks(view, spec, profile, s, out, specs)
    for p in view.policy:
        target = f" on {p.tool!r}" if p.tool else ""
        if p.effect == "deny":
            out.append(
                Finding(
                    view.trace_id,
                    p.span_id,
                    "policy_denial",
                    Severity.WARNING,
                    f"policy denied a call{target}: {p.message or 'no message'}",
                )
            )
        elif p.effect == "require_approval":
            out.append(
                Finding(
                    view.trace_id,
                    p.span_id,
                    "policy_denial",
                    Severity.INFO,
                    f"policy required approval for a call{target}",
                )
            )
    if profile is not None:
        _profile_checks(view, profile, s, out)
    if view.status is SpanStatus.ERROR:
        out.append(
            Finding(
                view.trace_id,
                None,
                "task_incomplete",
                Severity.CRITICAL,
                f"the run failed: {view.error or 'no error message'}",
            )
        )
    elif not view.completed:
        why = "no output" if view.status is SpanStatus.OK else f"status {view.status}"
        out.append(
            Finding(
                view.trace_id,
                None,
                "task_incomplete",
                Severity.WARNING,
                f"the run ended without completing its task ({why})",
            )
        )
    if view.failed_outcome and not view.unrecovered_errors and not view.errored:
        for d in explain_failure(view, profile):
            out.append(
                Finding(
                    view.trace_id,
                    None,
                    "outcome_failure",
                    Severity.WARNING,
                    f"the run's outcome is a failure without a tool error: {d.detail}",
                )
            )
    if spec is not None:
        _version_creep(view, spec, out)
    return out
