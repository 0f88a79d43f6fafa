"""Running an eval suite: each case through the agent's entrypoint, tools served from fixtures.

Each case runs with :func:`agentdeck.tracing.replay.entrypoint.run_entrypoint` (the same harness replay
and the demo use) inside :func:`agentdeck.tracing.sdk.guard.intercepting` with a
:class:`FixtureInterceptor`, so matching tool calls get the fixture's result (or error) instead
of running. Cases run on a thread pool: the SDK keeps the current span and the interceptor in
contextvars, which each worker thread holds on its own, so concurrent runs never mix.

The SDK must be configured (``agentdeck.init(...)``) by the caller: the spans of each case are
read back through ``spans_of(trace_id)`` (the store's ``get_spans`` or an ``InMemorySink``'s
``trace``) after one ``flush``, and judged by :func:`agentdeck.core.evals.suite.judge_case`.
:class:`EvalService` binds the result to the agent's digest and stores it.
"""

from __future__ import annotations

import importlib
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.errors import InputError
from agentdeck.core.evals.match import CallPattern, ObservedCall, observed_calls, python_matcher
from agentdeck.core.evals.result import CaseResult, EvalResult
from agentdeck.core.evals.suite import (
    Case,
    CustomCheck,
    Fixture,
    Suite,
    Verdict,
    judge_case,
    serve_fixture,
)
from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.trace.model import Span
from agentdeck.core.trace.model_call import ModelClient
from agentdeck.registry.service import Registry, RegistryServiceStore
from agentdeck.store.protocol import EvalStore, TraceStore
from agentdeck.tracing.replay.entrypoint import AgentRun, load_module, run_entrypoint, search_path
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk import recorder
from agentdeck.tracing.sdk.guard import Intercepted, ToolCallInfo, intercepting


class EvalRunnerStore(RegistryServiceStore, TraceStore, EvalStore, Protocol):
    """What the eval runner uses: the registry (agents), the runs it scores, where results go."""


SpanReader = Callable[[str], Sequence[Span]]


class FixtureError(Exception):
    """A fixture's ``error`` served to the agent as the tool's exception (or a strict miss)."""


class FixtureInterceptor:
    """Serves the first fixture matching a call; otherwise lets the tool run (or, when
    ``strict``, raises :class:`FixtureError` so the case shows the unstubbed call)."""

    def __init__(self, fixtures: Sequence[Fixture], strict: bool = False) -> None:
        self.fixtures = tuple(fixtures)
        self.strict = strict

    def intercept(self, call: ToolCallInfo) -> Intercepted | None:
        observed = ObservedCall(call.tool, dict(call.args))
        fixture = serve_fixture(self.fixtures, observed)
        if fixture is None:
            if self.strict:
                raise FixtureError(
                    f"no fixture for {call.tool} with these arguments (strict_fixtures)"
                )
            return None
        if fixture.error is not None:
            raise FixtureError(fixture.error)
        return Intercepted(fixture.result)


def check_loader(paths: Sequence[Path] = ()) -> Callable[[str], CustomCheck]:
    """Import ``module:function`` custom checks, with ``paths`` on ``sys.path``."""

    def load(ref: str) -> CustomCheck:
        module_name, _, fn_name = ref.partition(":")
        with search_path(paths):
            module = importlib.import_module(module_name)
        fn = getattr(module, fn_name, None)
        if not callable(fn):
            raise InputError(f"custom check {ref}: {module_name} has no function {fn_name!r}")
        return fn

    return load


@dataclass(frozen=True)
class CaseRun:
    """One case, executed and judged: the trace it left, its tool calls, its verdict.

    ``called``/``calls_to``/``tools`` are the assertions the pytest plugin offers.
    """

    case: Case
    trace_id: str
    output: Any
    error: str | None
    spans: tuple[Span, ...]
    calls: tuple[ObservedCall, ...]
    verdict: Verdict
    duration_ms: float

    @property
    def tools(self) -> tuple[str, ...]:
        """The tool names called, in order."""
        return tuple(c.tool for c in self.calls)

    @property
    def steps(self) -> int:
        return len(self.calls)

    def calls_to(self, tool: str) -> list[ObservedCall]:
        return [c for c in self.calls if c.tool == tool]

    def called(self, tool: str, /, **args: Any) -> bool:
        """Whether some call to ``tool`` has arguments matching ``args``: a value (equals), a
        callable (predicate), a compiled regex, or a matcher from ``agentdeck.core.evals.match``."""
        pattern = CallPattern(tool, {k: python_matcher(v) for k, v in args.items()})
        return any(pattern.matches(c) for c in self.calls)

    def to_result(self) -> CaseResult:
        return CaseResult(
            case_id=self.case.id,
            passed=self.verdict.passed,
            reasons=self.verdict.reasons,
            trace_id=self.trace_id or None,
            steps=self.verdict.steps,
            duration_ms=self.duration_ms,
            output=self.output,
            error=self.error,
        )


@dataclass(frozen=True)
class _Executed:
    case: Case
    run: AgentRun
    duration_ms: float


def _execute(
    case: Case,
    fixtures: Sequence[Fixture],
    strict: bool,
    agent: ResolvedAgent,
    model: ModelClient | None,
    attributes: Mapping[str, Any],
) -> _Executed:
    started = time.perf_counter()
    with intercepting(FixtureInterceptor(fixtures, strict)):
        run = run_entrypoint(
            agent, case.agent_input(), model=model, attributes={**attributes, "eval.case": case.id}
        )
    return _Executed(case, run, (time.perf_counter() - started) * 1000)


def _judge(ex: _Executed, spans_of: SpanReader, loader: Callable[[str], CustomCheck]) -> CaseRun:
    spans = tuple(spans_of(ex.run.trace_id)) if ex.run.trace_id else ()
    error = None if ex.run.error is None else f"{type(ex.run.error).__name__}: {ex.run.error}"
    calls = observed_calls(spans)
    verdict = judge_case(ex.case, spans, ex.run.output, error=error, custom=loader, calls=calls)
    output = ex.run.output
    return CaseRun(ex.case, ex.run.trace_id, output, error, spans, calls, verdict, ex.duration_ms)


def run_cases(
    suite: Suite,
    agent: ResolvedAgent,
    *,
    spans_of: SpanReader,
    cases: Sequence[Case] | None = None,
    workers: int = 4,
    model: ModelClient | None = None,
    paths: Sequence[Path] = (),
    on_case: Callable[[Case], None] | None = None,
) -> list[CaseRun]:
    """Run ``cases`` (default: all the suite's) of ``suite`` against ``agent``; results in suite
    order. ``model`` overrides the agent module's own ``model_client(spec)``; ``on_case`` is
    called as each case finishes (a progress bar)."""
    if recorder.config is None:
        raise InputError("evals need the tracing SDK configured: call agentdeck.init(...) first")
    todo = list(cases if cases is not None else suite.cases)
    load_module(agent.spec, paths)  # import once, here: workers find it in sys.modules
    attrs = {"eval.suite": suite.name, "eval.suite_digest": suite.digest}
    done: dict[str, _Executed] = {}
    with ThreadPoolExecutor(
        max_workers=max(1, workers), thread_name_prefix="agentdeck-eval"
    ) as pool:
        futures = [
            pool.submit(
                _execute, c, suite.fixtures_for(c), suite.strict_fixtures, agent, model, attrs
            )
            for c in todo
        ]
        for fut in as_completed(futures):
            ex = fut.result()
            done[ex.case.id] = ex
            if on_case is not None:
                on_case(ex.case)
    sdk.flush(timeout=30.0)
    loader = check_loader(paths)
    return [_judge(done[c.id], spans_of, loader) for c in todo]


def run_one(
    case: Case,
    agent: ResolvedAgent,
    *,
    spans_of: SpanReader,
    fixtures: Sequence[Fixture] = (),
    strict: bool = False,
    model: ModelClient | None = None,
    paths: Sequence[Path] = (),
) -> CaseRun:
    """Run and judge one case on the calling thread (the pytest plugin's path)."""
    if recorder.config is None:
        raise InputError("evals need the tracing SDK configured: call agentdeck.init(...) first")
    load_module(agent.spec, paths)
    ex = _execute(case, tuple(case.fixtures) + tuple(fixtures), strict, agent, model, {})
    sdk.flush(timeout=30.0)
    return _judge(ex, spans_of, check_loader(paths))


def suite_paths(suite: Suite, extra: Sequence[Path] = ()) -> list[Path]:
    """Where the agent's package is imported from: ``extra``, then the suite's ``paths``
    (relative to the suite file)."""
    base = Path(suite.source).parent
    return [*extra, *(base / p for p in suite.paths)]


def to_result(
    suite: Suite, agent: ResolvedAgent, runs: Sequence[CaseRun], actor: str, duration_ms: float
) -> EvalResult:
    return EvalResult(
        id=uuid.uuid4().hex,
        suite_name=suite.name,
        suite_digest=suite.digest,
        agent_name=agent.name,
        agent_version=agent.version,
        agent_digest=agent.digest,
        created_at=datetime.now(UTC),
        created_by=actor,
        cases=tuple(r.to_result() for r in runs),
        duration_ms=duration_ms,
    )


class EvalService:
    """Runs a suite against a registered agent version and stores the result bound to its digest."""

    def __init__(self, store: EvalRunnerStore, registry: Registry | None = None) -> None:
        self.store = store
        self.registry = registry or Registry(store)

    def run(
        self,
        suite: Suite,
        ref: str,
        *,
        actor: str,
        workers: int = 4,
        paths: Sequence[Path] = (),
        model: ModelClient | None = None,
        on_case: Callable[[Case], None] | None = None,
    ) -> tuple[EvalResult, list[CaseRun]]:
        version = self.registry.get(ref)
        agent = ResolvedAgent(version.name, version.version, version.digest, version.spec)
        started = time.perf_counter()
        runs = run_cases(
            suite, agent, spans_of=self.store.get_spans, workers=workers, model=model,
            paths=suite_paths(suite, paths), on_case=on_case,
        )  # fmt: skip
        result = to_result(suite, agent, runs, actor, (time.perf_counter() - started) * 1000)
        self.store.put_eval_result(
            result,
            AuditEvent(
                actor,
                "eval.result",
                version.ref,
                {
                    "suite": suite.name,
                    "suite_digest": suite.digest,
                    "digest": version.digest,
                    "passed": result.passed,
                    "total": result.total,
                    "result_id": result.id,
                },
                self.store.agent_project(version.name) or DEFAULT_PROJECT,
            ),
        )
        return result, runs

    def latest(self, ref: str, suite: Suite) -> EvalResult | None:
        """The newest stored result of ``suite`` (same suite digest) for ``ref``'s exact digest."""
        version = self.registry.get(ref)
        for r in self.store.eval_results(
            agent_digest=version.digest, suite_name=suite.name, limit=50
        ):
            if r.suite_digest == suite.digest:
                return r
        return None


def load_suite(path: Path) -> Suite:
    """Read and validate a suite file; errors name the file and the field."""
    from agentdeck.core.evals.suite import parse_suite
    from agentdeck.registry.specfile import load_yaml

    return parse_suite(load_yaml(path), str(path))
