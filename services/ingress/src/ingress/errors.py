"""Ingress errors; each maps to one HTTP answer in the API layer.

IngressError
├── AuthenticationError     401: no credentials
├── ForbiddenError          403: wrong credentials
├── PayloadTooLarge         413
├── MalformedPayload        400: not JSON
└── Unavailable             503: broker or dedupe store did not answer; the provider retries
"""


class IngressError(Exception):
    status_code = 500


class AuthenticationError(IngressError):
    status_code = 401


class ForbiddenError(IngressError):
    status_code = 403


class PayloadTooLarge(IngressError):
    status_code = 413


class MalformedPayload(IngressError):
    status_code = 400


class Unavailable(IngressError):
    status_code = 503
