"""Regenerate the OTLP conformance corpus made by real instrumentation libraries (issue 14).

Offline, no key, no network: the models are scripted. Run from the repository root::

    PYTHONPATH=src python tests/otlp_corpus/generate.py

``langgraph_handoff.<openinference-instrumentation-langchain version>.bin`` is the exact
protobuf body the OTLP/HTTP exporter would send (``encode_spans`` of the finished spans, in the
order they finished), made by ``openinference-instrumentation-langchain`` over a two-agent
LangGraph: ``triage`` and ``billing`` are ``create_react_agent`` agents; ``triage`` hands off
with a ``transfer_to_billing`` tool returning ``Command(graph=Command.PARENT, goto="billing")``;
``billing`` calls ``lookup_invoice``, which fails once (the model retries it) then succeeds,
and ``refund_status`` (one string parameter, so the model's arguments are a bare string in
LangChain's tool input). ``manifest.json`` records the library versions of each payload.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatResult
from langchain_core.tools import InjectedToolCallId, tool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, create_react_agent
from langgraph.types import Command
from openinference.instrumentation.langchain import LangChainInstrumentor
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

SESSION, USER = "conv-42", "u-7"  # the conversation and end user, on every span
HERE = Path(__file__).resolve().parent
LIBRARIES = (
    "openinference-instrumentation-langchain",
    "openinference-semantic-conventions",
    "langchain-core",
    "langgraph",
    "langgraph-prebuilt",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-common",
)


class ScriptedChatModel(GenericFakeChatModel):
    """A chat model that answers from a script, with a model name and token usage."""

    model_name: str = "scripted-model"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        return self

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return super()._generate(messages, stop, run_manager, **kwargs)


def _usage(inp: int, out: int) -> dict[str, int]:
    return {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out}


def _script(messages: list[AIMessage]) -> Iterator[AIMessage]:
    return iter(messages)


_failures = {"lookup_invoice": 1}


@tool
def transfer_to_billing(
    tool_call_id: Annotated[str, InjectedToolCallId],
) -> Command:  # type: ignore[type-arg]
    """Hand the conversation to the billing agent."""
    done = ToolMessage("Transferred to billing", tool_call_id=tool_call_id)
    return Command(graph=Command.PARENT, goto="billing", update={"messages": [done]})


@tool
def lookup_invoice(invoice_id: str, year: int) -> str:
    """Look an invoice up by id."""
    if _failures["lookup_invoice"] > 0:
        _failures["lookup_invoice"] -= 1
        raise ConnectionError(f"invoice service unavailable for {invoice_id}")
    return f"Invoice {invoice_id} ({year}): 42.00 EUR, paid"


@tool
def refund_status(invoice_id: str) -> str:
    """Say whether a refund is under way for an invoice."""
    return f"No refund open for {invoice_id}"


def build_graph() -> Any:
    warnings.filterwarnings("ignore", message="create_react_agent has been moved")
    triage_model = ScriptedChatModel(  # type: ignore[call-arg]
        model_name="scripted-triage",
        messages=_script(
            [
                AIMessage(
                    "",
                    tool_calls=[{"name": "transfer_to_billing", "args": {}, "id": "call_t1"}],
                    usage_metadata=_usage(31, 7),  # type: ignore[arg-type]
                )
            ]
        ),
    )
    billing_model = ScriptedChatModel(  # type: ignore[call-arg]
        model_name="scripted-billing",
        messages=_script(
            [
                AIMessage(
                    "",
                    tool_calls=[
                        {
                            "name": "lookup_invoice",
                            "args": {"invoice_id": "INV-7", "year": 2026},
                            "id": "call_b1",
                        }
                    ],
                    usage_metadata=_usage(52, 11),  # type: ignore[arg-type]
                ),
                AIMessage(
                    "",
                    tool_calls=[
                        {
                            "name": "lookup_invoice",
                            "args": {"invoice_id": "INV-7", "year": 2026},
                            "id": "call_b2",
                        }
                    ],
                    usage_metadata=_usage(75, 11),  # type: ignore[arg-type]
                ),
                AIMessage(
                    "",
                    tool_calls=[
                        {"name": "refund_status", "args": {"invoice_id": "INV-7"}, "id": "call_b3"}
                    ],
                    usage_metadata=_usage(98, 9),  # type: ignore[arg-type]
                ),
                AIMessage(
                    "Invoice INV-7 is paid (42.00 EUR); no refund is open.",
                    usage_metadata=_usage(120, 14),  # type: ignore[arg-type]
                ),
            ]
        ),
    )
    triage = create_react_agent(
        triage_model,
        [transfer_to_billing],
        prompt="You are triage. Route billing questions to billing.",
        name="triage",
    )
    billing = create_react_agent(
        billing_model,
        ToolNode([lookup_invoice, refund_status], handle_tool_errors=True),
        prompt="You are billing. Answer invoice questions.",
        name="billing",
    )
    graph = StateGraph(MessagesState)
    graph.add_node("triage", triage, destinations=("billing",))
    graph.add_node("billing", billing)
    graph.add_edge(START, "triage")
    graph.add_edge("billing", END)
    return graph.compile(name="support")


def generate(out_dir: Path = HERE) -> Path:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "support-desk"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        app = build_graph()
        from openinference.instrumentation import using_attributes

        with using_attributes(session_id=SESSION, user_id=USER):
            app.invoke({"messages": [{"role": "user", "content": "Is invoice INV-7 paid?"}]})
    finally:
        instrumentor.uninstrument()
    spans = exporter.get_finished_spans()
    body = encode_spans(spans).SerializeToString()
    ver = version("openinference-instrumentation-langchain")
    path = out_dir / f"langgraph_handoff.{ver}.bin"
    path.write_bytes(body)
    manifest_path = out_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest[path.name] = {
        "producer": "openinference-instrumentation-langchain",
        "generator": "tests/otlp_corpus/generate.py",
        "spans": len(spans),
        "versions": {lib: version(lib) for lib in LIBRARIES},
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


if __name__ == "__main__":
    print(generate())
