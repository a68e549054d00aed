"""Process entry point shared by the services: logging, uvicorn, graceful SIGTERM."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from common import heap
from common.logging import configure_logging
from common.settings import ServiceSettings
from common.telemetry import shutdown_tracing


def serve(service: str, settings: ServiceSettings, app_factory: Callable[[], FastAPI]) -> None:
    """Run the service until SIGINT/SIGTERM; uvicorn then runs the lifespan shutdown.

    In-flight HTTP requests and broker handlers get ``graceful_timeout_s`` to finish.
    """
    configure_logging(service, settings.log_level, settings.log_format)
    heap.arm(settings.gc_young_threshold)  # settled by the lifespan once start-up is done
    try:
        uvicorn.run(
            app_factory(),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=int(settings.graceful_timeout_s),
            lifespan="on",
        )
    finally:
        shutdown_tracing()
