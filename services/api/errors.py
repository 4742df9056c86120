"""Domain errors carry their HTTP status; one handler renders them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


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
    status_code = 503
    error = "unavailable"


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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AccordError)
    async def _render(_: Request, exc: AccordError) -> JSONResponse:
        return JSONResponse(
            {"error": exc.error, "detail": exc.detail},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    # asyncpg reports a refused connection as a plain OSError; SQLite, a lock that outlived
    # the busy timeout or a missing file, as OperationalError; a full pool times out.
    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {
                "error": Unavailable.error,
                "detail": f"the database is unavailable ({type(exc).__name__}); try again shortly",
            },
            status_code=Unavailable.status_code,
            headers={"Retry-After": "5"},
        )

    for unavailable in (OperationalError, InterfaceError, PoolTimeout, OSError):
        app.add_exception_handler(unavailable, _database_unavailable)
