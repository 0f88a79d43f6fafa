"""Framework integrations, each an optional extra that imports its framework only when used.

- :mod:`agentdeck.integrations.openai` (``agentdeck[openai]``): ``instrument(client)``.
- :mod:`agentdeck.integrations.anthropic` (``agentdeck[anthropic]``): ``instrument(client)``.
- :mod:`agentdeck.integrations.langchain` (``agentdeck[langchain]``): ``AgentdeckCallbackHandler``
  and ``guard_tool`` / ``guard_tools`` (policy before LangChain tools).
- :mod:`agentdeck.integrations.openai_agents` (``agentdeck[agents]``):
  ``AgentdeckTracingProcessor`` and ``guard_tool`` / ``guard_agent``.

Policy is not integration code: guarded framework tools go through
:func:`agentdeck.tracing.sdk.tools.guarded_call`, the path ``@agentdeck.tool`` uses, so the guard
configured with ``agentdeck.init`` decides them.
"""
