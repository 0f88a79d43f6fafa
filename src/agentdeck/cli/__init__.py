"""agentdeck.cli."""
