"""One interface for every WhatsApp gateway; the command's provider picks the sender."""
