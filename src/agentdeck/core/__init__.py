"""agentdeck.core."""
