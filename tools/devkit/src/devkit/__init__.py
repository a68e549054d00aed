"""Developer tools for congress-bot: never imported by a service."""
