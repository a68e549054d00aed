"""Meta WhatsApp Cloud API: signature, payload normalisation, webhook routes."""
