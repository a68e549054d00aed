"""Conversation: the dialogue with each WhatsApp user."""

__version__ = "0.1.0"
