"""One JSON error shape for every API error, translated in one place.

{"error": "<code>", "message": "<text in the caller's language>", "details": {...}}
Domain code raises ApiError subclasses; only this module turns them into HTTP.
"""
from __future__ import annotations

import logging
import re

from flask import Flask, g, jsonify, request
from marshmallow import INCLUDE, Schema, ValidationError, fields
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from server import i18n
from server.extensions import db
from sync.errors import SyncError
from sync.wire import flatten_errors

log = logging.getLogger(__name__)


class FieldErrorSchema(Schema):
    """One entry of `details.errors`."""

    field = fields.String(required=True)  # the field's path (`keys.auth`), or `_schema` for the body
    code = fields.String(required=True)
    message = fields.String(required=True)


class ErrorDetailsSchema(Schema):
    """`details`: the per-field problems, and whatever an error adds (`retry_after`, `wipe`, …)."""

    class Meta:
        unknown = INCLUDE

    errors = fields.List(fields.Nested(FieldErrorSchema))


class ErrorSchema(Schema):
    """The one shape of every error answer, as `error_response` writes it (the API reference
    shows it, and its tests hold every error answer to it). A protocol may put keys beside
    `error` (sync's `min_schema`)."""

    class Meta:
        unknown = INCLUDE

    error = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Nested(ErrorDetailsSchema, required=True)


class ApiError(Exception):
    """An error the caller should see; `code` picks the message, `params` fill it in."""

    status = 400
    code = "bad_request"

    def __init__(self, code: str | None = None, *, details: dict | None = None, headers=None,
                 errors: list["FieldError"] | None = None, **params):
        super().__init__(code or self.code)
        if code:
            self.code = code
        self.details = details or {}
        self.headers = headers or {}
        self.errors = errors or []  # per-field problems, listed in details["errors"]
        self.top_level: dict = {}  # keys a protocol puts beside "error" (sync's min_schema)
        self.params = params


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class StaleVersion(ApiError):
    status, code = 409, "stale_version"


class AlreadyExists(ApiError):
    status, code = 409, "already_exists"


class TooLarge(ApiError):
    status, code = 413, "too_large"


class TooManyRequests(ApiError):
    status, code = 429, "too_many_attempts"


class Unavailable(ApiError):
    status, code = 503, "db_unavailable"


class StorageFull(ApiError):
    """The database's disk is full: nothing of the request was kept; the phone keeps it and sends
    it again later, and whoever runs the server must free space."""

    status, code = 503, "storage_full"


class Busy(ApiError):
    """Every database connection of this process stayed taken for the pool's whole timeout: the
    server is past what it can do. The app tries again later, keeping what it has not sent."""

    status, code = 503, "server_busy"
    RETRY_AFTER_SECONDS = 5


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class FieldError:
    """One field's problem: a machine code, and parameters for its message."""

    __slots__ = ("field", "code", "params")

    def __init__(self, field: str, code: str, **params):
        self.field, self.code, self.params = field, code, params

    def as_dict(self, language: str) -> dict:
        # The field's path can be the caller's own key (an unknown one), lone surrogate and all:
        # named with U+FFFD in its place, for an answer must be UTF-8.
        field = _LONE_SURROGATE.sub("\ufffd", self.field)
        return {"field": field, "code": self.code,
                "message": i18n.field_error_message(self.code, field, language, **self.params)}

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.code!r})"


class ValidationFailed(ApiError):
    """422: the request was understood but fields are wrong. Details list each field's error."""

    status, code = 422, "validation_failed"

    def __init__(self, errors: list[FieldError], **kwargs):
        super().__init__(errors=errors, **kwargs)

    @classmethod
    def from_marshmallow(cls, exc: ValidationError) -> "ValidationFailed":
        return cls(field_errors_from_marshmallow(exc.messages))


def field_errors_from_marshmallow(messages) -> list[FieldError]:
    """marshmallow's messages (whose texts are codes, see sync/wire.py) as field errors."""
    return [FieldError(field, code, **params) for field, code, params in flatten_errors(messages)]


def caller_language() -> str:
    """The caller's language: Accept-Language, else the user's setting, else zh-CN."""
    header = request.accept_languages.best_match(i18n.LANGUAGES) if request else None
    if header:
        return header
    # Read at authentication, so that no database access is needed here (it may be what failed).
    return g.get("language") or i18n.DEFAULT_LANGUAGE


def error_response(error: ApiError):
    # Whatever the request wrote is abandoned; the session may also be unusable after a DB error.
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the database may be gone; the answer must still be JSON
        log.warning("rollback failed while answering an error")
    language = caller_language()
    details = dict(error.details)
    if error.errors:
        details["errors"] = [e.as_dict(language) for e in error.errors]
    body = {**error.top_level, "error": error.code,
            "message": i18n.error_message(error.code, language, **error.params), "details": details}
    response = jsonify(body)
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = str(value)
    if error.status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = "Bearer"  # RFC 9110 §15.5.2: a 401 names its scheme
    return response


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def register(app: Flask) -> None:
    """Install the handlers: API errors are always JSON, never an HTML page."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error)

    @app.errorhandler(SyncError)
    def _sync_error(error: SyncError):
        refused = ApiError(error.code, errors=[FieldError(p.field or "_schema", p.code, **p.params)
                                               for p in error.problems], details=dict(error.extra))
        refused.status = error.status
        refused.top_level = dict(error.extra)
        refused.params = dict(error.extra)
        return error_response(refused)

    @app.errorhandler(ValidationError)
    def _marshmallow_error(error: ValidationError):
        return error_response(ValidationFailed.from_marshmallow(error))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = _HTTP_CODES.get(error.code or 500, "internal_error" if (error.code or 500) >= 500 else "bad_request")
        # Keep the exception's own headers (a 405's Allow), but not its HTML content type.
        headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
        generic = ApiError(code, headers=headers)
        generic.status = error.code or 500
        return error_response(generic)

    def _database_gone(error):
        if _storage_full(error):
            log.critical("the database's storage is full: writes fail until space is freed")
            return error_response(StorageFull())
        log.error("database unavailable: %s", type(error).__name__)
        return error_response(Unavailable())

    app.register_error_handler(OperationalError, _database_gone)
    app.register_error_handler(InterfaceError, _database_gone)

    @app.errorhandler(PoolTimeout)
    def _busy(error: PoolTimeout):
        log.warning("no database connection free within the pool's timeout")
        return error_response(Busy(headers={"Retry-After": str(Busy.RETRY_AFTER_SECONDS)}))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # The type only: a message might carry a user's data into the log.
        log.exception("unhandled %s on %s %s", type(error).__name__, request.method, request.path)
        generic = ApiError("internal_error")
        generic.status = 500
        return error_response(generic)


def _storage_full(error) -> bool:
    """SQLite's SQLITE_FULL (13) or PostgreSQL's disk_full (SQLSTATE 53100)."""
    orig = getattr(error, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    return (code is not None and code & 0xFF == 13) or getattr(orig, "sqlstate", None) == "53100"
