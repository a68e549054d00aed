"""Wiring of the registration service."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from common.messaging import create_broker
from common.service import ServiceRuntime, create_service_app
from common.telemetry import setup_tracing
from registration import __version__
from registration.config import RegistrationSettings
from registration.db import create_engine, database_check

SERVICE = "registration"


def create_app(settings: RegistrationSettings) -> FastAPI:
    tracer_provider = setup_tracing(SERVICE)
    registry = CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, tracer_provider=tracer_provider, registry=registry)
    engine = create_engine(settings.database_url, settings.database_pool_size)
    check_database = database_check(engine)
    runtime = ServiceRuntime(
        name=SERVICE,
        version=__version__,
        broker=broker,
        registry=registry,
        tracer_provider=tracer_provider,
        readiness_timeout_s=settings.readiness_timeout_s,
        checks={"database": check_database},
        on_startup=[check_database],  # refuse to start without the database
        on_shutdown=[engine.dispose],
    )
    return create_service_app(runtime, description="Owns the participant database.")
