"""agentdeck.evals."""
