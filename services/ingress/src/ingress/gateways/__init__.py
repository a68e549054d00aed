"""One adapter per WhatsApp gateway, each behind the ``Gateway`` interface (see ``base``)."""
