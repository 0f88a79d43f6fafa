"""agentdeck.policy."""
