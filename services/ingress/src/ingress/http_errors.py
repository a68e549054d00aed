"""Ingress errors → HTTP answers with a reason (and Retry-After when the provider should retry)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from common.logging import get_logger
from ingress.errors import IngressError, Unavailable

log = get_logger(__name__)
RETRY_AFTER_S = 5


async def _ingress_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IngressError)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(exc, Unavailable) else None
    log.info("webhook.rejected", status=exc.status_code, reason=str(exc))
    return JSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(IngressError, _ingress_error)
