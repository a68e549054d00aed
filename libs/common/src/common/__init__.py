"""Shared building blocks of congress-bot services: contracts, topology, settings, observability."""
