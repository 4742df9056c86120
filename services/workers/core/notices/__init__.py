"""The wording of every notice: Jinja2 templates, one per `NoticeTemplate`, rendered when
the notice is stored in the outbox. A template's first line is the subject; the body
follows a blank line."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from workflows.core.notices import Notice

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=False,  # plain-text mail
    undefined=StrictUndefined,
    keep_trailing_newline=False,
)
_ENV.filters["minute"] = lambda at: at.strftime("%Y-%m-%d %H:%M UTC")
_ENV.filters["day"] = lambda at: at.strftime("%Y-%m-%d")


def render_notice(notice: Notice) -> tuple[str, str]:
    """The notice's subject and body. A notice recorded before templates existed
    carries its own wording."""
    if notice.template is None or notice.values is None:
        return notice.subject, notice.body
    values = notice.values.model_dump()
    for name in ("title", "step_name", "obligation"):
        # These can reach the subject line, which ends at the first blank line.
        if values[name]:
            values[name] = " ".join(values[name].split())
    text = _ENV.get_template(f"{notice.template}.txt").render(values)
    subject, _, body = text.strip().partition("\n\n")
    return " ".join(subject.split()), body.strip()
