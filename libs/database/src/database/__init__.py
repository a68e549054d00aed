"""PostgreSQL the same way in every service that owns data (registration, notifier)."""
