"""Exceptions services raise; views turn them into a status code and a message."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, **context):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.context = context


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    """A stale version, a lost race, a re-post with a different body, a refused transition."""

    status = 409
    code = "conflict"


class Invalid(ServiceError):
    status = 422
    code = "invalid"
