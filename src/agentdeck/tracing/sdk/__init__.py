"""The tracing SDK that runs in the agent's process: recorder, tools, exporter, sinks."""
