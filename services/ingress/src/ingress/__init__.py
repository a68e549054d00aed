"""Ingress: the door from WhatsApp gateways into the bus."""

__version__ = "0.1.0"
