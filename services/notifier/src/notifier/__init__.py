"""Notifier: outbound WhatsApp sends (and e-mail), each exactly once."""

__version__ = "0.1.0"
