"""Wiring of the registration service."""

from __future__ import annotations

from fastapi import FastAPI

from common.service import ServiceRuntime, create_service_app
from registration import __version__
from registration.config import RegistrationSettings
from registration.db import create_engine, create_sessionmaker, database_check
from registration.handlers import register_handlers
from registration.service import Registrations

SERVICE = "registration"


def create_app(settings: RegistrationSettings) -> FastAPI:
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    engine = create_engine(settings.database_url, settings.database_pool_size)
    check_database = database_check(engine)
    runtime.checks["database"] = check_database
    runtime.on_startup.append(check_database)  # refuse to start without the database
    runtime.on_shutdown.append(engine.dispose)
    vault = settings.cpf_vault()  # a malformed key stops the service here
    register_handlers(runtime.broker, Registrations(create_sessionmaker(engine), vault, settings.code_prefix))
    return create_service_app(runtime, description="Owns the participant database.")
