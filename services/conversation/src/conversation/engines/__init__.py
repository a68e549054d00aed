"""Language engines: read a user's message into an ``Understanding`` (offline rules or an LLM)."""
