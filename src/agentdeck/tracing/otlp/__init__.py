"""OTLP in and out: decoding /v1/traces requests, mapping to and from agentdeck spans."""
