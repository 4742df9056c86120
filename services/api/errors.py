"""Domain errors carry their HTTP status; one handler renders them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

# How long a 503 asks the client to wait before it tries again.
RETRY_AFTER_SECONDS = "5"


class AccordError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class Unauthenticated(AccordError):
    status_code = 401
    error = "unauthenticated"


class Forbidden(AccordError):
    status_code = 403
    error = "forbidden"


class NotFound(AccordError):
    status_code = 404
    error = "not_found"


class Conflict(AccordError):
    status_code = 409
    error = "conflict"


class Unavailable(AccordError):
    """A dependency is down: always says when to try again, as the database's 503 does."""

    status_code = 503
    error = "unavailable"

    def __init__(self, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, {"Retry-After": RETRY_AFTER_SECONDS, **(headers or {})})


class Pending(AccordError):
    status_code = 504
    error = "not_confirmed"


class ErrorOut(BaseModel):
    """Every error but a 422: a code and a sentence for a person."""

    error: str
    detail: str


_MEANINGS = {
    401: "No valid bearer token",
    403: "The caller may not do this",
    404: "No such resource",
    409: "The resource's state does not allow this",
    503: "The database or the workflow service is unavailable",
    504: "The workflow did not confirm in time; the command may still apply",
}


def documented(*statuses: int, **meanings: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses; `meanings` overrides by `s<status>`."""
    return {
        status: {"model": ErrorOut, "description": meanings.get(f"s{status}", _MEANINGS[status])}
        for status in statuses
    }


COMMAND_ERRORS = (403, 404, 409, 503, 504)


def invalid_field(
    location: tuple[str | int, ...], message: str, value: Any
) -> RequestValidationError:
    """A 422 in FastAPI's own shape, for checks a schema alone cannot express."""
    return RequestValidationError(
        [{"type": "value_error", "loc": location, "msg": message, "input": value}]
    )


async def render_error(_: Request, exc: AccordError) -> JSONResponse:
    """A domain error as the API answers it."""
    return JSONResponse(
        {"error": exc.error, "detail": exc.detail},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AccordError, render_error)  # type: ignore[arg-type]

    # A body FastAPI cannot even decode (not UTF-8, or nested past the recursion limit)
    # gets its bare 400; it is invalid JSON like any other, so a 422 json_invalid.
    @app.exception_handler(HTTPException)
    async def _unparsable_body(request: Request, exc: HTTPException) -> Response:
        if exc.status_code != 400 or exc.__cause__ is None:
            return await http_exception_handler(request, exc)
        error = {
            "type": "json_invalid",
            "loc": ("body",),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": str(exc.__cause__)[:200] or type(exc.__cause__).__name__},
        }
        return await request_validation_exception_handler(request, RequestValidationError([error]))

    # asyncpg reports a refused connection as a plain OSError; SQLite, a lock that outlived
    # the busy timeout or a missing file, as OperationalError; a full pool times out.
    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {
                "error": Unavailable.error,
                "detail": f"the database is unavailable ({type(exc).__name__}); try again shortly",
            },
            status_code=Unavailable.status_code,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )

    for unavailable in (OperationalError, InterfaceError, PoolTimeout, OSError):
        app.add_exception_handler(unavailable, _database_unavailable)

    # A connection the server dropped mid-statement (asyncpg: "connection was closed in
    # the middle of operation") is a bare DBAPIError that SQLAlchemy marks a disconnect;
    # so is a server that refuses connections for now, e.g. while it recovers from a
    # crash ("not yet accepting connections"), which only its SQLSTATE tells apart.
    async def _disconnected(request: Request, exc: Exception) -> JSONResponse:
        if not (getattr(exc, "connection_invalidated", False) or _refused_for_now(exc)):
            raise exc
        return await _database_unavailable(request, exc)

    app.add_exception_handler(DBAPIError, _disconnected)


# SQLSTATEs of a server that cannot take the connection now but will: class 08
# (connection exception), 53300 too many connections, 57P01-57P03 shutting down, crashed,
# starting up or recovering.
_TRY_AGAIN_SQLSTATES = ("08", "53300", "57P01", "57P02", "57P03")


def _refused_for_now(exc: Exception) -> bool:
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_TRY_AGAIN_SQLSTATES)
