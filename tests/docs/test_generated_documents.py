"""The AsyncAPI and OpenAPI documents come from the code, list every contract, and are current."""

from pathlib import Path

import pytest
import yaml

from common.messaging import CONTRACTS, SHARDED, TOPOLOGY
from devkit import docs

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return docs.render()


def test_asyncapi_lists_every_contract_and_queue(rendered):
    spec = yaml.safe_load(rendered["asyncapi.yaml"])
    assert spec["asyncapi"] == "3.0.0"
    schemas = spec["components"]["schemas"]
    for contract in CONTRACTS:
        assert contract.__name__ in schemas, f"{contract.__name__} missing from AsyncAPI"
    channels = yaml.safe_dump(spec["channels"])
    for queue in TOPOLOGY:
        assert queue.name in channels
        assert queue.contract.ROUTING_KEY in channels
    for inbox in SHARDED:
        assert inbox.name in channels


def test_openapi_documents_every_endpoint(rendered):
    ingress = yaml.safe_load(rendered["openapi/ingress.json"])
    assert {"get", "post"} <= set(ingress["paths"]["/webhooks/meta"])
    for path in (
        "/webhooks/evolution",
        "/webhooks/evolution/{event}",
        "/webhooks/zapi",
        "/webhooks/whaticket",
    ):
        assert "post" in ingress["paths"][path], path
    for name in ("ingress", "conversation", "registration", "notifier"):
        paths = yaml.safe_load(rendered[f"openapi/{name}.json"])["paths"]
        assert {"/healthz", "/readyz", "/metrics"} <= set(paths)


def test_committed_documents_are_current(rendered):
    for name, text in rendered.items():
        path = DOCS / name
        assert path.exists(), f"{path} missing: run `make docs`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `make docs`"
