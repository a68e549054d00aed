"""Registration: owns the participant database and publishes registration events."""

__version__ = "0.1.0"
