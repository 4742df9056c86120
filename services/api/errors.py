"""Domain errors carry their HTTP status; one handler renders them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


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
