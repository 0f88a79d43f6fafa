"""Running an agent version's entrypoint: the one harness that replay, evals and the demo share.

Conventions (documented in docs/concepts.md):

- The spec's ``entrypoint: module:function`` names ``def fn(input, *, model) -> output``; the
  agent calls ``model.complete(messages, tools, params)`` and its ``@agentdeck.tool`` functions.
  The harness opens the ``agentdeck.run`` around it, so the entrypoint itself does not.
- The entrypoint's module may define ``model_client(spec: AgentSpec) -> ModelClient``: the
  version's own model client (a scripted one for offline demos and tests, or a real provider).
  Replay ``--with`` and evals use it; without it, a model must be passed explicitly.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from agentdeck.core.errors import InputError
from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.core.trace.model_call import ModelClient, ModelResponse
from agentdeck.tracing.sdk.api import current_run, recorded_model, run

Entrypoint = Callable[..., Any]


@contextmanager
def search_path(paths: Sequence[Path]) -> Iterator[None]:
    """Temporarily put ``paths`` first on ``sys.path`` (where agent packages live)."""
    added = [str(p.resolve()) for p in paths if str(p.resolve()) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)


def load_module(spec: AgentSpec, paths: Sequence[Path] = ()) -> tuple[ModuleType, Entrypoint]:
    """Import the entrypoint's module and function; errors name the spec field."""
    if not spec.entrypoint:
        raise InputError(f"{spec.name}: the spec has no entrypoint (module:function) to run")
    module_name, _, func_name = spec.entrypoint.partition(":")
    with search_path(paths):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise InputError(
                f"{spec.name}: entrypoint {spec.entrypoint!r}: cannot import {module_name!r} ({exc})"
            ) from None
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise InputError(
            f"{spec.name}: entrypoint {spec.entrypoint!r}: {module_name} has no function {func_name!r}"
        )
    return module, fn


def own_model_client(spec: AgentSpec, module: ModuleType) -> ModelClient:
    """The version's own model client, from its module's ``model_client(spec)``."""
    factory = getattr(module, "model_client", None)
    if not callable(factory):
        raise InputError(
            f"{spec.name}: {module.__name__} defines no model_client(spec); pass a model client explicitly"
        )
    client = factory(spec)
    if not isinstance(client, ModelClient):
        raise InputError(
            f"{spec.name}: {module.__name__}.model_client(spec) did not return a ModelClient"
        )
    return client


@dataclass(frozen=True)
class AgentRun:
    """The outcome of one harnessed run: its trace id, output, and the error if it raised."""

    trace_id: str
    output: Any
    error: BaseException | None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_entrypoint(
    agent: ResolvedAgent,
    input: Any,
    *,
    model: ModelClient | None = None,
    paths: Sequence[Path] = (),
    attributes: dict[str, Any] | None = None,
    session_id: str | None = None,
) -> AgentRun:
    """Run ``agent``'s entrypoint on ``input`` inside a recorded run (of the conversation
    ``session_id``, which also picks a canary's arm); never raises the agent's own exception
    (it is recorded on the run and returned)."""
    module, fn = load_module(agent.spec, paths)
    wrapped: Any
    if model is None and agent.canary is not None:
        wrapped = _ArmModel(paths)  # the run's arm is chosen inside run(): its version's model
    else:
        client = model if model is not None else own_model_client(agent.spec, module)
        wrapped = recorded_model(
            client, model=agent.spec.model.id, provider=agent.spec.model.provider
        )
    output: Any = None
    error: BaseException | None = None
    trace_id = ""
    try:
        with run(agent=agent, input=input, attributes=attributes, session_id=session_id) as handle:
            trace_id = handle.trace_id
            output = fn(input, model=wrapped)
            handle.set_output(output)
    except Exception as exc:  # the agent's failure is data here: the run recorded it
        error = exc
    return AgentRun(trace_id, output, error)


class _ArmModel:
    """With a canary on the env: the own model of the version the run was assigned to."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = paths
        self.clients: dict[str, Any] = {}

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], params: dict[str, Any]
    ) -> ModelResponse:
        handle = current_run()
        if handle is None or handle.agent is None:
            raise InputError("a canary run's model was called outside its run")
        spec = handle.agent.spec
        client = self.clients.get(spec.digest)
        if client is None:
            own = own_model_client(spec, load_module(spec, self.paths)[0])
            client = recorded_model(own, model=spec.model.id, provider=spec.model.provider)
            self.clients[spec.digest] = client
        response: ModelResponse = client.complete(messages, tools, params)
        return response
