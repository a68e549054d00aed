"""E-mail about registrations: rendered from pt-BR templates, sent over SMTP (or logged in dev)."""
