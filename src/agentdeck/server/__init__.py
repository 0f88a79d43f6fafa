"""agentdeck.server."""
