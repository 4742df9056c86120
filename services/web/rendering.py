"""Templates, their filters, and how a refusal becomes a readable message on the page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError

from services.api.errors import AccordError
from services.reports.renderers import TEMPLATE_LOADER as REPORT_TEMPLATES
from services.web.auth import Viewer

TEMPLATES = Jinja2Templates(
    env=Environment(
        # The report's templates too, as "reports/<file>": the portfolio dashboard draws
        # its charts with the macro the mailed and downloaded report uses.
        loader=ChoiceLoader(
            [FileSystemLoader(Path(__file__).parent / "templates"), REPORT_TEMPLATES]
        ),
        autoescape=select_autoescape(),
    )
)

# What a status means to a person, as the heading of a refusal.
HEADINGS = {
    400: "That request could not be read",
    401: "Please sign in",
    403: "You may not do this",
    404: "Not found",
    409: "This can no longer be done",
    422: "Please correct the form",
    503: "Accord is briefly unavailable",
    504: "Not confirmed yet",
}


# Words that keep their capitals when a code is shown as text.
_ACRONYMS = {"ip": "IP", "csv": "CSV", "html": "HTML", "ear": "EAR", "itar": "ITAR"}


def humanize(value: object) -> str:
    """`changes_requested` -> `Changes requested`; `ip_counsel` -> `IP counsel`."""
    words = str(value or "").replace("_", " ").split(" ")
    text = " ".join(_ACRONYMS.get(word, word) for word in words)
    return text[:1].upper() + text[1:]


def when(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime(fmt) + (" UTC" if "%H" in fmt else "")


def day(value: datetime | None) -> str:
    return when(value, "%d %b %Y")


def relative(value: datetime | None) -> str:
    """'in 3 days', '5 hours ago': how a due date reads at a glance."""
    if value is None:
        return ""
    seconds = (value - datetime.now(UTC)).total_seconds()
    span = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if span >= size:
            count = int(span // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if seconds > 0 else f"{text} ago"
    return "now"


def money(value: Decimal | float | int | None, currency: str = "") -> str:
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f} {currency}".strip()


TEMPLATES.env.filters.update(humanize=humanize, when=when, day=day, relative=relative, money=money)


# What a successful post says on the page it leads to (`?done=<key>`): a fixed set, so a
# crafted link cannot put words of its own on an Accord page.
FLASHES = {
    "submitted": "The proposal is submitted; its review has started.",
    "decided": "Your decision is recorded.",
    "revised": "The revision is submitted; the review starts again.",
    "withdrawn": "The agreement is withdrawn.",
    "terminated": "The agreement is terminated.",
    "dismissed": "The finding is dismissed as a false positive.",
    "reassigned": "The task is reassigned; its new assignees are notified.",
    "asset_saved": "The IP asset is saved.",
    "license_recorded": "The license is recorded.",
}


def page(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "flash": FLASHES.get(request.query_params.get("done", "")),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    # Pages show personal data: never kept by a shared cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def refusal_page(
    request: Request, viewer: Viewer | None, status_code: int, message: str
) -> HTMLResponse:
    """A refusal as a page of its own, with the status the API would have given."""
    return page(
        request,
        "error.html",
        viewer,
        status_code=status_code,
        heading=HEADINGS.get(status_code, "Something went wrong"),
        message=message,
    )


# What a page shows as a message instead of failing: the API's domain errors, its
# models' validation errors, and the 422s its endpoints raise with `invalid_field`.
REFUSALS = (AccordError, ValidationError, RequestValidationError)


class FormErrors:
    """What was wrong with a form: messages by field name, and those of the form as a whole.

    Field names are the error's location joined by '-' (`parties-0-country`), the same
    names the templates give their inputs, so each message sits beside its field.
    """

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.general: list[str] = []
        self.status_code = 422

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def add(self, location: Sequence[str | int], message: str) -> None:
        name = "-".join(str(part) for part in location if part not in ("body", "query"))
        if name and name not in self.fields:
            self.fields[name] = message
        elif not name:
            self.general.append(message)

    def refused(self, status_code: int, message: str) -> None:
        self.general.append(message)
        self.status_code = status_code

    @classmethod
    def of(cls, error: Exception) -> FormErrors:
        errors = cls()
        if isinstance(error, AccordError):
            errors.refused(error.status_code, error.detail)
        elif isinstance(error, ValidationError):
            for item in error.errors(include_input=False, include_url=False):
                errors.add(list(item["loc"]), _message(item))
        elif isinstance(error, RequestValidationError):
            for item in error.errors():
                errors.add(list(item.get("loc", ())), _message(item))
        else:
            raise error
        return errors

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


def _message(item: Mapping[str, Any]) -> str:
    message = str(item.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


def redirect(url: str) -> Response:
    """After a successful post, the page to show (Post/Redirect/Get)."""
    return Response(status_code=303, headers={"Location": url})
