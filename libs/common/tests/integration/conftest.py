"""Each test a fresh RabbitMQ vhost, and brokers built the way the services build theirs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from faststream.rabbit import RabbitBroker

from common.service import ServiceRuntime
from common.settings import ServiceSettings
from devkit import infra


@pytest.fixture
def vhost_url() -> Iterator[str]:
    with infra.rabbitmq_vhost("congress-common-test") as url:
        yield url


@pytest.fixture
def make_broker() -> Callable[[str], RabbitBroker]:
    def build(url: str) -> RabbitBroker:
        return ServiceRuntime.build(ServiceSettings(amqp_url=url), name="test", version="0").broker

    return build
