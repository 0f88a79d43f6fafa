"""agentdeck.monitor."""
