"""Generate the system's interface documents from the code itself.

- ``asyncapi.yaml``: every channel and message of every service's broker, one document.
- ``openapi/<service>.json``: every HTTP endpoint of each service.

``python -m devkit.docs <dir>`` writes them; a test checks the committed copies are current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI

from common.consumers import Handler
from common.contracts import (
    Contract,
    HandoffRequested,
    HumanActivityDetected,
    MessageReceived,
    SendWhatsAppMessage,
    WebhookParked,
)
from common.messaging import (
    CONVERSATION_INBOX,
    NOTIFIER_INBOX,
    OPS_HANDOFFS,
    OPS_PARKED_WEBHOOKS,
    TOPOLOGY,
    subscriber,
)
from common.service import ServiceRuntime
from common.sharding import ShardConsumers
from conversation.app import create_app as conversation_app
from conversation.config import ConversationSettings
from ingress.app import create_app as ingress_app
from ingress.config import IngressSettings
from notifier.app import create_app as notifier_app
from notifier.config import NotifierSettings
from registration.app import create_app as registration_app
from registration.config import RegistrationSettings

VERSION = "0.1.0"
# Fixed, so the documents do not depend on the environment they are generated in.
DOC_BROKER_URL = "amqp://rabbitmq:5672/"


def service_apps() -> dict[str, FastAPI]:
    """Each service's app, built but never started (nothing connects)."""
    url = DOC_BROKER_URL
    return {
        # Every gateway configured, so every route is documented.
        "ingress": ingress_app(
            IngressSettings(
                _env_file=None,
                amqp_url=url,
                evolution_webhook_token="documented",
                zapi_webhook_token="documented",
                whaticket_secret="documented",
                evolution_amqp_url="amqp://evolution-rabbitmq:5672/",
            )
        ),
        "conversation": conversation_app(ConversationSettings(_env_file=None, amqp_url=url)),
        "registration": registration_app(RegistrationSettings(_env_file=None, amqp_url=url)),
        "notifier": notifier_app(NotifierSettings(_env_file=None, amqp_url=url)),
    }


def parking_lot_broker() -> RabbitBroker:
    """Queues for people have no consuming service (operators read them); document them anyway."""
    broker = RabbitBroker(DOC_BROKER_URL, description="operators (RabbitMQ management, ops tools)")

    @subscriber(broker, OPS_PARKED_WEBHOOKS)
    async def on_webhook_parked(event: WebhookParked) -> None:
        """Parking lot: authenticated webhooks nobody could understand, kept for a person."""

    @subscriber(broker, OPS_HANDOFFS)
    async def on_handoff_requested(event: HandoffRequested) -> None:
        """Users waiting for a person: the team's tool (or a person) takes them from here."""

    return broker


def conversation_inbox_broker() -> RabbitBroker:
    """Conversation consumes its inbox shards by lease, at run time; describe one shard here."""
    broker = RabbitBroker(DOC_BROKER_URL, description="conversation (sharded inbox)")

    async def on_message_received(message: MessageReceived) -> None:
        """A user's WhatsApp message, answered in order with the rest of the conversation."""

    async def on_human_activity_detected(event: HumanActivityDetected) -> None:
        """A person at the business wrote from the provider's app: the bot steps back."""

    handlers: dict[type[Contract], Handler] = {
        MessageReceived: on_message_received,
        HumanActivityDetected: on_human_activity_detected,
    }
    ShardConsumers(broker, CONVERSATION_INBOX, handlers).build(0, title="conversation.inbox.NN:consume")
    return broker


def waiting_queues_broker(documented: list[RabbitBroker]) -> RabbitBroker:
    """Queues in the topology that no service consumes (yet): messages wait there for another
    system (see services/registration/README.md, "Subscribing to registration events") or for the
    service that will consume them. Documented so every published routing key shows its queue."""
    broker = RabbitBroker(DOC_BROKER_URL, description="other systems (queues declared, consumed outside)")
    consumed = {sub.queue.name for b in documented for sub in b.subscribers if hasattr(sub, "queue")}
    for queue in TOPOLOGY:
        if queue.name not in consumed:

            async def waiting(event: Any) -> None:
                pass

            waiting.__doc__ = f"Waits here for its consumer: {queue.contract.__doc__}"
            subscriber(broker, queue)(_typed(waiting, queue.contract))
    return broker


def _typed(handler: Any, contract: type[Contract]) -> Any:
    """``handler`` with its message annotated as ``contract`` (what AsyncAPI documents)."""
    handler.__annotations__ = {"event": contract, "return": None}
    return handler


def notifier_inbox_broker() -> RabbitBroker:
    """Notifier consumes its send inbox's shards by lease, at run time; describe one shard here."""
    broker = RabbitBroker(DOC_BROKER_URL, description="notifier (sharded inbox)")

    async def on_send_whatsapp_message(command: SendWhatsAppMessage) -> None:
        """Send a WhatsApp message once, in order with the rest of its conversation; failures wait
        in the retry tiers `notifier.retry.<delay>` and come back to the same shard."""

    handlers: dict[type[Contract], Handler] = {SendWhatsAppMessage: on_send_whatsapp_message}
    ShardConsumers(broker, NOTIFIER_INBOX, handlers).build(0, title="notifier.inbox.NN:consume")
    return broker


def asyncapi_yaml(apps: dict[str, FastAPI]) -> str:
    brokers = [
        app.state.runtime.broker for app in apps.values() if isinstance(app.state.runtime, ServiceRuntime)
    ]
    brokers += [app.state.runtime.described for app in apps.values()]
    brokers += [source for app in apps.values() for source in app.state.runtime.sources]
    brokers += [conversation_inbox_broker(), notifier_inbox_broker(), parking_lot_broker()]
    brokers.append(waiting_queues_broker(brokers))
    spec = AsyncAPI(
        *brokers,
        title="congress-bot",
        version=VERSION,
        description="Events and commands on the congress-bot RabbitMQ bus (exchange `congress`).",
        schema_version="3.0.0",
    )
    # Keys sorted: FastStream's channel order follows hashing and would differ from run to run.
    return yaml.safe_dump(spec.to_specification().to_jsonable(), sort_keys=True, allow_unicode=True)


def openapi_json(app: FastAPI) -> str:
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def render() -> dict[str, str]:
    apps = service_apps()
    files = {"asyncapi.yaml": asyncapi_yaml(apps)}
    files.update({f"openapi/{name}.json": openapi_json(app) for name, app in apps.items()})
    return files


def write(directory: Path) -> None:
    for name, text in render().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
