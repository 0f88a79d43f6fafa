"""A pytest plugin (entry point ``pytest11: agentdeck``): behavioural tests in your own CI.

::

    def test_small_refund(agentdeck_run):
        run = agentdeck_run(
            "agent.yaml",
            "Refund ORD-1001, it arrived broken. I'm jane@example.com",
            fixtures=[{"tool": "issue_refund", "result": {"refund_id": "RF-1", "status": "issued"}}],
        )
        assert run.called("issue_refund", amount=lambda a: a <= 500)
        assert not run.called("send_email", to=re.compile("evil"))
        assert run.tools[0] == "lookup_order"

    def test_suite_case(agentdeck_case):
        run = agentdeck_case("evals/suite.yaml", "refund-small-damaged", agent="agent.yaml")
        assert run.verdict.passed, run.verdict.reasons

Fixtures:

- ``agentdeck_sink``: the tracing SDK configured for this test with an in-memory sink (no
  store, no network, no policy guard unless ``guard=`` is given through
  ``agentdeck_configure``); shut down after the test.
- ``agentdeck_run(agent, input, *, fixtures=(), history=(), model=None, paths=(), strict=False)``
  runs the agent's entrypoint once and returns a :class:`~agentdeck.evals.runner.CaseRun`.
  ``agent`` is a spec file path, an ``AgentSpec`` or a ``ResolvedAgent``; a spec file's folder
  is on ``sys.path`` for the entrypoint.
- ``agentdeck_case(suite, case_id, *, agent)`` runs one case of a suite file and judges it.

Nothing is imported from agentdeck until a fixture is used, so the plugin costs nothing in test
sessions that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from agentdeck.core.evals.suite import Fixture
    from agentdeck.core.spec.agent import ResolvedAgent
    from agentdeck.core.trace.model_call import ModelClient
    from agentdeck.evals.runner import CaseRun
    from agentdeck.tracing.sdk.sink import InMemorySink


def _resolve(agent: Any) -> tuple[ResolvedAgent, list[Path]]:
    from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
    from agentdeck.registry.specfile import load_agent_spec

    if isinstance(agent, ResolvedAgent):
        return agent, []
    if isinstance(agent, AgentSpec):
        return ResolvedAgent(agent.name, 0, agent.digest, agent), []
    path = Path(agent)
    spec = load_agent_spec(path)
    return ResolvedAgent(spec.name, 0, spec.digest, spec), [path.parent]


def _fixtures(raw: Sequence[Any]) -> tuple[Fixture, ...]:
    from agentdeck.core.evals.suite import Fixture, parse_fixtures

    given = [f for f in raw if isinstance(f, Fixture)]
    parsed = parse_fixtures([f for f in raw if isinstance(f, Mapping)], "agentdeck_run", "fixtures")
    return (*given, *parsed)


@pytest.fixture
def agentdeck_sink() -> Iterator[InMemorySink]:
    """The SDK recording into memory for this test (shut down afterwards)."""
    from agentdeck.tracing.sdk import api as sdk

    sink = sdk.InMemorySink()
    sdk.init(sink=sink, schedule_delay=0.05)
    try:
        yield sink
    finally:
        sdk.shutdown()


@pytest.fixture
def agentdeck_run(agentdeck_sink: InMemorySink) -> Callable[..., CaseRun]:
    """``agentdeck_run(agent, input, fixtures=..., history=...)`` -> the run, judged for nothing
    (assert on it with ``run.called(...)``, ``run.tools``, ``run.output``)."""
    from agentdeck.core.evals.suite import Case
    from agentdeck.evals.runner import run_one

    def run(
        agent: Any,
        input: Any,
        *,
        fixtures: Sequence[Any] = (),
        history: Sequence[Mapping[str, Any]] = (),
        model: ModelClient | None = None,
        paths: Sequence[str | Path] = (),
        strict: bool = False,
    ) -> CaseRun:
        resolved, spec_paths = _resolve(agent)
        case = Case(id="agentdeck_run", input=input, history=tuple(history))
        return run_one(
            case, resolved, spans_of=agentdeck_sink.trace, fixtures=_fixtures(fixtures),
            strict=strict, model=model, paths=[*map(Path, paths), *spec_paths],
        )  # fmt: skip

    return run


@pytest.fixture
def agentdeck_case(agentdeck_sink: InMemorySink) -> Callable[..., CaseRun]:
    """``agentdeck_case(suite_file, case_id, agent=...)`` -> the case run with its verdict."""
    from agentdeck.evals.runner import load_suite, run_one, suite_paths

    def run(
        suite: str | Path, case_id: str, *, agent: Any, model: ModelClient | None = None
    ) -> CaseRun:
        s = load_suite(Path(suite))
        case = s.case(case_id)
        if case is None:
            raise pytest.UsageError(f"{suite}: no case {case_id!r}")
        resolved, spec_paths = _resolve(agent)
        return run_one(
            case, resolved, spans_of=agentdeck_sink.trace, fixtures=s.fixtures,
            strict=s.strict_fixtures, model=model, paths=suite_paths(s, spec_paths),
        )  # fmt: skip

    return run
