"""Every delivery-log migration upgrades and downgrades cleanly: head → base → head, fresh database."""

import pytest
from alembic import command

from devkit import infra
from notifier.migrate import alembic_config

pytestmark = pytest.mark.integration


def test_upgrade_downgrade_upgrade_on_a_fresh_database():
    with infra.migrated_database("congress_notifier_migrations", service="notifier") as url:
        config = alembic_config(url)
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        command.downgrade(config, "0001")
        command.upgrade(config, "head")
        command.check(config)  # the models and the migrated schema agree
