"""agentdeck.store."""
