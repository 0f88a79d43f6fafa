"""Access to the server in the core: API key and UI session records."""
