"""The example customer-support agent of agentdeck (see examples/support-bot/README in the
repository README's tour): an agent loop (``agent.run_agent``), its tools over a small
deterministic in-memory shop (``shop``), and a deterministic scripted model (``scripted``)."""
