"""agentdeck.registry."""
