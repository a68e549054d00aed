"""Wiring of the notifier service."""

from __future__ import annotations

import socket

from database.engine import create_engine, create_sessionmaker, database_check
from fastapi import FastAPI

from common.cache import attach_redis
from common.contracts import Provider
from common.logging import get_logger
from common.messaging import NOTIFIER_DELIVERY_STATUSES, NOTIFIER_INBOX
from common.service import ServiceRuntime, create_service_app
from common.sharding import consume_by_lease
from notifier import __version__
from notifier.admin import deliveries_router
from notifier.config import NotifierSettings
from notifier.delivery_log import DeliveryLog
from notifier.email.event_facts import load_event_facts
from notifier.email.mailer import LogMailer, Mailer, SmtpMailer
from notifier.handlers import EMAIL_QUEUES, Limits, Notifier, inbox_consumers, register_handlers
from notifier.inbound import InboundMessages
from notifier.metrics import NotifierMetrics
from notifier.rate_limit import Limit, RateLimiter
from notifier.retry_queues import RetryTiers
from notifier.senders.base import Sender, Senders
from notifier.senders.gateways import EvolutionSender, WhaticketSender, ZapiSender
from notifier.senders.http import HttpPool
from notifier.senders.meta import MetaSender, ReengageTemplate
from notifier.window import CustomerWindows

SERVICE = "notifier"
log = get_logger(__name__)


def build_senders(settings: NotifierSettings, http: HttpPool, windows: CustomerWindows) -> Senders:
    """Meta always; the other gateways when their credentials are set."""
    reengage = None
    if settings.meta_reengage_template:
        reengage = ReengageTemplate(settings.meta_reengage_template, settings.meta_reengage_template_language)
    senders: dict[Provider, Sender] = {
        Provider.META: MetaSender(
            http,
            base_url=settings.meta_graph_url,
            version=settings.meta_graph_version,
            access_token=settings.meta_access_token,
            reengage=reengage,
            windows=windows,
            typing_indicator=settings.meta_typing_indicator,
        )
    }
    if settings.evolution_api_url and settings.evolution_api_key:
        senders[Provider.EVOLUTION] = EvolutionSender(
            http, base_url=settings.evolution_api_url, api_key=settings.evolution_api_key.get_secret_value()
        )
    if settings.zapi_instance_token and settings.zapi_client_token:
        senders[Provider.ZAPI] = ZapiSender(
            http,
            base_url=settings.zapi_api_url,
            instance_token=settings.zapi_instance_token.get_secret_value(),
            client_token=settings.zapi_client_token.get_secret_value(),
        )
    if settings.whaticket_api_url and settings.whaticket_api_token:
        senders[Provider.WHATICKET] = WhaticketSender(
            http,
            base_url=settings.whaticket_api_url,
            api_token=settings.whaticket_api_token.get_secret_value(),
        )
    return Senders(senders)


def build_mailer(settings: NotifierSettings) -> Mailer:
    if not settings.smtp_host:
        log.warning("email.smtp_not_configured", detail="e-mails are written to the log, not sent")
        return LogMailer()
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,  # compose passes "" when unset
        password=settings.smtp_password.get_secret_value() or None if settings.smtp_password else None,
        use_tls=settings.smtp_tls,
        start_tls=settings.smtp_starttls,
        timeout_s=settings.send_timeout_s * 2,
        local_hostname=socket.getfqdn(),  # once, not a lookup in a thread per e-mail
    )


def create_app(settings: NotifierSettings) -> FastAPI:
    facts = load_event_facts(settings.event_file)  # a missing or broken file stops the service here
    runtime = ServiceRuntime.build(settings, name=SERVICE, version=__version__)
    redis = attach_redis(runtime, settings.redis_url)
    # No ping at checkout (three round trips per use): every delivery-log write already retries
    # a connection found dead (``database.outages``), and the pool is invalidated at the first one.
    engine = create_engine(settings.notifier_database_url, settings.database_pool_size, pre_ping=False)
    check_database = database_check(engine)
    runtime.checks["database"] = check_database
    runtime.on_startup.append(check_database)  # refuse to start without the delivery log
    runtime.on_shutdown.append(engine.dispose)
    http = HttpPool(timeout_s=settings.send_timeout_s, tracer_provider=runtime.tracer_provider)
    runtime.on_startup.append(http.start)  # the HTTP pool exists before the first message
    runtime.on_shutdown.insert(0, http.close)
    delivery_log = DeliveryLog(create_sessionmaker(engine))
    policy, whatsapp_policy = settings.retry_policy(), settings.whatsapp_retry_policy()
    tiers = RetryTiers(
        tuple(sorted({*policy.tiers, *whatsapp_policy.tiers})), jitter=settings.notifier_retry_jitter
    )
    windows = CustomerWindows(redis)
    senders = build_senders(settings, http, windows)
    metrics = NotifierMetrics(runtime.registry)
    notifier = Notifier(
        broker=runtime.broker,
        delivery_log=delivery_log,
        senders=senders,
        policy=policy,
        whatsapp_policy=whatsapp_policy,
        tiers=tiers,
        limiter=RateLimiter(redis),
        limits=Limits(
            business=Limit(settings.rate_limit_business_per_s, 1.0),
            recipient=Limit(settings.rate_limit_recipient_per_minute, 60.0),
        ),
        metrics=metrics,
        facts=facts,
        mailer=build_mailer(settings),
        mail_from=settings.smtp_from,
        publish_timeout_s=settings.publish_timeout_s,
        inbound=InboundMessages(
            redis=redis,
            windows=windows,
            senders=senders,
            metrics=metrics,
            mark_read=settings.notifier_mark_read,
        ),
        patience=settings.patience(),
        resend_unknown_after_s=settings.notifier_unknown_resend_after_s or None,
    )
    register_handlers(runtime, notifier, prefetch=settings.broker_prefetch)

    async def declare_retry_tiers() -> None:
        queues = (*EMAIL_QUEUES, NOTIFIER_DELIVERY_STATUSES)  # receipts wait there through an outage
        targets = [(NOTIFIER_INBOX.name, True), *((queue.name, False) for queue in queues)]
        await tiers.declare(runtime.broker, targets)

    runtime.on_startup.append(declare_retry_tiers)
    consumers = inbox_consumers(notifier)
    consume_by_lease(runtime, redis, consumers)  # in order per conversation, shards spread by lease
    app = create_service_app(runtime, description="Outbound WhatsApp and e-mail, each exactly once.")
    app.include_router(deliveries_router(delivery_log, settings.notifier_admin_token.get_secret_value()))
    return app
