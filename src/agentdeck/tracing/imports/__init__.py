"""Importing history: finished conversations and other producers' traces, read from files and
recorded through the SDK (see :mod:`agentdeck.tracing.imports.runner`)."""
