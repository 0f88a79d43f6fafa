"""agentdeck.tracing."""
