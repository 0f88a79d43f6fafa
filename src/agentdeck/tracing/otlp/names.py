"""Attribute names agentdeck reads and writes on OTLP spans, and the span-kind tables.

Three vocabularies meet here (see ``CONVENTIONS-OTLP.md`` in the design notes):

- the OpenTelemetry GenAI semantic conventions (``gen_ai.*``), which agentdeck writes;
- OpenInference (``openinference.span.kind``, ``input.value``, ``llm.*``, ``tool.*``), which
  agentdeck reads, since Arize's instrumentations send no ``gen_ai.*`` attribute at all;
- agentdeck's own ``agentdeck.*`` namespace, written next to the GenAI names so that an
  agentdeck span survives span -> OTLP -> span exactly (kinds GenAI has no word for, ``seq``,
  link kinds, the run stamp, and the exact inputs/outputs when the GenAI form would lose
  something).

Only names live here, so the encoder and the decoder cannot drift apart.
"""

from __future__ import annotations

from typing import Final

from agentdeck.core.trace.model import SpanKind

# --- agentdeck namespace -------------------------------------------------------------------
AD_KIND: Final = "agentdeck.span.kind"
AD_SEQ: Final = "agentdeck.seq"
AD_NAME: Final = "agentdeck.span.name"  # the span's own name, when OTLP carries the GenAI one
AD_ERROR: Final = "agentdeck.error"  # an error text on a span whose status is not ERROR
AD_INPUTS: Final = "agentdeck.inputs"  # exact inputs (JSON) when the GenAI form is lossy
AD_OUTPUTS: Final = "agentdeck.outputs"
AD_LLM_PARAMS: Final = "agentdeck.llm.params"  # exact llm.params (JSON)
AD_AGENT_DIGEST: Final = "agentdeck.agent.digest"
AD_LINK_KIND: Final = "agentdeck.link.kind"  # on an OTLP link
AD_ENV: Final = "agentdeck.env"  # accepted on a span or the resource of foreign exporters
AD_DEPLOYMENT_ID: Final = "agentdeck.deployment_id"
# A canary's arm on a run's root span (any producer): the deployment (the candidate's is the
# canary id), the arm (stable | candidate) and the share (percent) it was assigned under.
AD_DEPLOYMENT_ID_DOTTED: Final = "agentdeck.deployment.id"
AD_CANARY_ARM: Final = "agentdeck.canary.arm"
AD_CANARY_SHARE: Final = "agentdeck.canary.share"
# The run stamp, written on one span of the run (its root when the batch holds it).
AD_RUN_PREFIX: Final = "agentdeck.run."
RUN_AGENT_NAME: Final = "agentdeck.run.agent.name"
RUN_AGENT_VERSION: Final = "agentdeck.run.agent.version"
RUN_AGENT_DIGEST: Final = "agentdeck.run.agent.digest"
RUN_ENV: Final = "agentdeck.run.env"
RUN_DEPLOYMENT_ID: Final = "agentdeck.run.deployment_id"
RUN_START_NS: Final = "agentdeck.run.start_ns"  # always written: marks the stamp
RUN_END_NS: Final = "agentdeck.run.end_ns"
RUN_STATUS: Final = "agentdeck.run.status"
RUN_ERROR: Final = "agentdeck.run.error"
RUN_INPUT: Final = "agentdeck.run.input"  # JSON
RUN_OUTPUT: Final = "agentdeck.run.output"  # JSON
RUN_ROOT_SPAN_ID: Final = "agentdeck.run.root_span_id"
RUN_ATTRIBUTES: Final = "agentdeck.run.attributes"  # JSON object
RUN_OUTCOME: Final = "agentdeck.run.outcome"  # success | failure
RUN_OUTCOME_SCORE: Final = "agentdeck.run.outcome.score"
RUN_OUTCOME_REASON: Final = "agentdeck.run.outcome.reason"
RUN_SESSION_ID: Final = "agentdeck.run.session_id"
RUN_USER_ID: Final = "agentdeck.run.user_id"
RUN_CANARY_ARM: Final = "agentdeck.run.canary_arm"

# --- sessions and users: read on any span of a trace (first name that is set wins) --------
SESSION_ID: Final = "session.id"  # OpenTelemetry general and OpenInference
CONVERSATION_ID: Final = "gen_ai.conversation.id"
USER_ID: Final = "user.id"  # OpenTelemetry general and OpenInference
ENDUSER_ID: Final = "enduser.id"  # deprecated OpenTelemetry name, still sent
# Traceloop's association properties (Traceloop.set_association_properties), on every span
TRACELOOP_SESSION_ID: Final = "traceloop.association.properties.session_id"
TRACELOOP_USER_ID: Final = "traceloop.association.properties.user_id"
SESSION_KEYS: Final = (SESSION_ID, CONVERSATION_ID, TRACELOOP_SESSION_ID)
USER_KEYS: Final = (USER_ID, ENDUSER_ID, TRACELOOP_USER_ID)

# --- OpenTelemetry GenAI -------------------------------------------------------------------
OPERATION: Final = "gen_ai.operation.name"
PROVIDER: Final = "gen_ai.provider.name"
SYSTEM_DEPRECATED: Final = "gen_ai.system"
REQUEST_MODEL: Final = "gen_ai.request.model"
RESPONSE_MODEL: Final = "gen_ai.response.model"
RESPONSE_ID: Final = "gen_ai.response.id"
FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
USAGE_INPUT: Final = "gen_ai.usage.input_tokens"
USAGE_OUTPUT: Final = "gen_ai.usage.output_tokens"
USAGE_PROMPT_DEPRECATED: Final = "gen_ai.usage.prompt_tokens"
USAGE_COMPLETION_DEPRECATED: Final = "gen_ai.usage.completion_tokens"
USAGE_CACHE_READ: Final = "gen_ai.usage.cache_read.input_tokens"
USAGE_REASONING: Final = "gen_ai.usage.reasoning.output_tokens"
AGENT_NAME: Final = "gen_ai.agent.name"
AGENT_VERSION: Final = "gen_ai.agent.version"
TOOL_NAME: Final = "gen_ai.tool.name"
TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
TOOL_TYPE: Final = "gen_ai.tool.type"
TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
TOOL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
TOOL_RESULT: Final = "gen_ai.tool.call.result"
RETRIEVAL_QUERY: Final = "gen_ai.retrieval.query.text"
RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"
ERROR_TYPE: Final = "error.type"
# Obsolete flattened content (Traceloop / OpenLLMetry): gen_ai.prompt.{i}.role ...
LEGACY_PROMPT_PREFIX: Final = "gen_ai.prompt."
LEGACY_COMPLETION_PREFIX: Final = "gen_ai.completion."
# gen_ai.request.<suffix> <-> key in agentdeck's llm.params (OpenAI-style names).
REQUEST_PARAMS: Final[dict[str, str]] = {
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "stop_sequences": "stop",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "seed": "seed",
    "choice.count": "n",
    "stream": "stream",
}
REQUEST_PREFIX: Final = "gen_ai.request."

# --- OpenInference ------------------------------------------------------------------------
OI_KIND: Final = "openinference.span.kind"
OI_INPUT: Final = "input.value"
OI_INPUT_MIME: Final = "input.mime_type"
OI_OUTPUT: Final = "output.value"
OI_OUTPUT_MIME: Final = "output.mime_type"
OI_AGENT_NAME: Final = "agent.name"
OI_MODEL: Final = "llm.model_name"
OI_PROVIDER: Final = "llm.provider"
OI_SYSTEM: Final = "llm.system"
OI_PARAMS: Final = "llm.invocation_parameters"
OI_INPUT_MESSAGES: Final = "llm.input_messages."
OI_OUTPUT_MESSAGES: Final = "llm.output_messages."
OI_TOOLS: Final = "llm.tools."
OI_TOKENS_PROMPT: Final = "llm.token_count.prompt"
OI_TOKENS_COMPLETION: Final = "llm.token_count.completion"
OI_TOKENS_TOTAL: Final = "llm.token_count.total"
OI_TOKENS_CACHE_READ: Final = "llm.token_count.prompt_details.cache_read"
OI_TOKENS_REASONING: Final = "llm.token_count.completion_details.reasoning"
OI_TOOL_NAME: Final = "tool.name"
OI_TOOL_ID: Final = "tool.id"
OI_RETRIEVAL_DOCUMENTS: Final = "retrieval.documents."
TRACELOOP_KIND: Final = "traceloop.span.kind"
TRACELOOP_REQUEST_TYPE: Final = "llm.request.type"
MIME_JSON: Final = "application/json"
MIME_TEXT: Final = "text/plain"

# --- agentdeck attribute names (core/trace/model.py conventions) ---------------------------------
TOOL_NAME_ATTR: Final = "tool.name"
TOOL_CALL_ID_ATTR: Final = "tool.call_id"
LLM_PROVIDER_ATTR: Final = "llm.provider"
LLM_MODEL_ATTR: Final = "llm.model"
LLM_RESPONSE_MODEL_ATTR: Final = "llm.response_model"
LLM_PARAMS_ATTR: Final = "llm.params"
AGENT_NAME_ATTR: Final = "agent.name"
AGENT_VERSION_ATTR: Final = "agent.version"
AGENT_DIGEST_ATTR: Final = "agent.digest"
HANDOFF_FROM_ATTR: Final = "handoff.from"
HANDOFF_TO_ATTR: Final = "handoff.to"
TOOL_ARGS_NOTE_ATTR: Final = "tool.arguments_note"  # the arguments are not as the tool saw them
BARE_ARGS_NOTE: Final = "bare value as sent by the producer; parameter name unknown"
STACKTRACE_ATTR: Final = "exception.stacktrace"  # a traceback cut from the error message
EVENTS_ATTR: Final = "otel.events"  # span events other than consumed ones, kept for RCA

# --- kinds --------------------------------------------------------------------------------
# What agentdeck writes as gen_ai.operation.name (kinds GenAI has no word for get none).
OPERATION_OF_KIND: Final[dict[SpanKind, str]] = {
    SpanKind.LLM: "chat",
    SpanKind.TOOL: "execute_tool",
    SpanKind.AGENT: "invoke_agent",
    SpanKind.RETRIEVAL: "retrieval",
}
KIND_OF_OPERATION: Final[dict[str, SpanKind]] = {
    "chat": SpanKind.LLM,
    "text_completion": SpanKind.LLM,
    "generate_content": SpanKind.LLM,
    "execute_tool": SpanKind.TOOL,
    "invoke_agent": SpanKind.AGENT,
    "create_agent": SpanKind.AGENT,
    "retrieval": SpanKind.RETRIEVAL,
    "embeddings": SpanKind.CUSTOM,
    "invoke_workflow": SpanKind.CUSTOM,
}
# openinference.span.kind written next to the GenAI names, so Phoenix-like UIs group spans.
OI_KIND_OF_KIND: Final[dict[SpanKind, str]] = {
    SpanKind.AGENT: "AGENT",
    SpanKind.LLM: "LLM",
    SpanKind.TOOL: "TOOL",
    SpanKind.RETRIEVAL: "RETRIEVER",
    SpanKind.HANDOFF: "TOOL",
    SpanKind.POLICY: "GUARDRAIL",
    SpanKind.GUARDRAIL: "GUARDRAIL",
    SpanKind.EVAL: "EVALUATOR",
    SpanKind.CUSTOM: "CHAIN",
}
# CHAIN is custom unless the span names an agent (decided in the decoder).
KIND_OF_OI_KIND: Final[dict[str, SpanKind]] = {
    "LLM": SpanKind.LLM,
    "TOOL": SpanKind.TOOL,
    "AGENT": SpanKind.AGENT,
    "RETRIEVER": SpanKind.RETRIEVAL,
    "RERANKER": SpanKind.RETRIEVAL,
    "GUARDRAIL": SpanKind.GUARDRAIL,
    "EVALUATOR": SpanKind.EVAL,
    "CHAIN": SpanKind.CUSTOM,
    "EMBEDDING": SpanKind.CUSTOM,
    "PROMPT": SpanKind.CUSTOM,
    "UNKNOWN": SpanKind.CUSTOM,
}
KIND_OF_TRACELOOP_KIND: Final[dict[str, SpanKind]] = {
    "tool": SpanKind.TOOL,
    "agent": SpanKind.AGENT,
    "workflow": SpanKind.CUSTOM,
    "task": SpanKind.CUSTOM,
}
KIND_BY_VALUE: Final[dict[str, SpanKind]] = {k.value: k for k in SpanKind}

# OTLP enums (opentelemetry/proto/trace/v1/trace.proto).
STATUS_UNSET: Final = 0
STATUS_OK: Final = 1
STATUS_ERROR: Final = 2
