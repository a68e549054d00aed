"""``congress-ingress``: run the ingress service."""

from __future__ import annotations

from common.runner import serve
from ingress.app import SERVICE, create_app
from ingress.config import IngressSettings


def main() -> None:
    settings = IngressSettings()
    serve(SERVICE, settings, lambda: create_app(settings))


if __name__ == "__main__":
    main()
