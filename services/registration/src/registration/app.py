"""Wiring of the registration service."""

from __future__ import annotations

from database.engine import create_engine, create_sessionmaker, database_check
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from common.contracts import (
    Contract,
    RegistrationCancelled,
    RegistrationCompleted,
    RegistrationErased,
    RegistrationPromoted,
    RegistrationUpdated,
)
from common.messaging import ConfirmedPublisher, publisher
from common.service import ServiceRuntime, create_service_app
from registration import __version__
from registration.admin.api import admin_router
from registration.admin.audit import AuditMiddleware
from registration.admin.exports import ParticipantExport
from registration.admin.queries import ParticipantQueries
from registration.admin.tokens import TokenStore
from registration.config import RegistrationSettings
from registration.handlers import register_handlers
from registration.outbox import OutboxRelay
from registration.service import Registrations

SERVICE = "registration"
EVENTS: dict[str, type[Contract]] = {
    contract.ROUTING_KEY: contract
    for contract in (
        RegistrationCompleted,
        RegistrationPromoted,
        RegistrationCancelled,
        RegistrationUpdated,
        RegistrationErased,
    )
}


def database_engine(settings: RegistrationSettings) -> AsyncEngine:
    """No overflow connections (opened and closed per use under load) and no ping at checkout: the
    use cases retry once on a dead connection instead (service.reconnecting)."""
    return create_engine(settings.database_url, settings.database_pool_size, max_overflow=0, pre_ping=False)


def create_app(settings: RegistrationSettings) -> FastAPI:
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    engine = database_engine(settings)
    sessions = create_sessionmaker(engine)
    check_database = database_check(engine)
    runtime.checks["database"] = check_database
    runtime.on_startup.append(check_database)  # refuse to start without the database
    runtime.on_shutdown.append(engine.dispose)
    vault = settings.cpf_vault()  # a malformed key stops the service here

    for contract in EVENTS.values():  # declared for AsyncAPI; the relay publishes them
        publisher(runtime.broker, contract, timeout=settings.publish_timeout_s)
    relay = OutboxRelay(
        sessions,
        ConfirmedPublisher(
            runtime.broker,
            app_id=SERVICE,
            timeout=settings.outbox_publish_timeout_s,
            tracer=runtime.tracer_provider.get_tracer(SERVICE, __version__),
        ),
        EVENTS,
        batch_size=settings.outbox_batch_size,
        poll_interval_s=settings.outbox_poll_interval_s,
        hold_s=settings.outbox_relay_hold_s,
    )
    registrations = Registrations(
        sessions, vault, settings.code_prefix, settings.capacity(), on_events=relay.wake
    )
    register_handlers(runtime, registrations, prefetch=settings.broker_prefetch)
    runtime.on_started.append(registrations.promote_waiting)  # the capacity may have grown
    runtime.on_started.append(relay.start)
    runtime.on_stopping.append(relay.stop)  # what commits later waits for the next start

    admin = admin_router(
        TokenStore(sessions),
        ParticipantQueries(sessions, vault),
        ParticipantExport(sessions, vault),
        registrations,
    )
    app = create_service_app(
        runtime,
        routers=[admin],
        description=(
            "Owns the participant database and publishes registration.* events. The admin API needs "
            "a bearer token (`congress-registration token create --name NAME --scopes read,export,write`)."
        ),
    )
    app.add_middleware(AuditMiddleware, sessions=sessions)
    return app
