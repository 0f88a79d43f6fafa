"""agentdeck."""
