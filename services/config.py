"""All settings, from ACCORD_* environment variables (DATABASE_URL and TEMPORAL_ADDRESS too)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Where alembic.ini, migrations/ and config/ live: the checkout, or ACCORD_ROOT when the
# package is installed elsewhere (the container image sets it).
ROOT = Path(os.environ.get("ACCORD_ROOT") or Path(__file__).resolve().parent.parent)


def normalise_database_url(url: str) -> str:
    """Give a plain postgres/sqlite URL its async driver."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCORD_", extra="ignore", populate_by_name=True)

    # Embedded mode's data: SQLite database, Temporal's file, demo tokens.
    var_dir: Path = ROOT / "var"
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{ROOT / 'var' / 'accord.db'}",
        validation_alias=AliasChoices("ACCORD_DATABASE_URL", "DATABASE_URL"),
    )
    temporal_address: str = Field(
        default="127.0.0.1:7233",
        validation_alias=AliasChoices("ACCORD_TEMPORAL_ADDRESS", "TEMPORAL_ADDRESS"),
    )
    temporal_namespace: str = "default"
    task_queue: str = "accord-agreements"

    review_policy_file: Path = ROOT / "config" / "review_policy.yaml"

    # A reminder goes out when this share of a task's SLA has passed, another at the due
    # date, and an escalation when the task is this long overdue.
    reminder_share: float = Field(default=0.5, gt=0, lt=1)
    escalation_grace_seconds: float = Field(default=24 * 3600, ge=0)

    # IP clearance: the group whose counsel decide on the findings, and their SLA.
    ip_counsel_group: str = "ip-counsel"
    clearance_sla_hours: float = Field(default=120, gt=0)
    # Restricted-party screening: a fuzzy match scoring at least this (0-100) is a hit.
    screening_threshold: float = Field(default=88, ge=50, le=100)
    # The list `accord dev` loads when none has been loaded yet.
    screening_list_file: Path = ROOT / "config" / "screening" / "consolidated_screening_list.json"

    # Signature: an envelope not completed within this many days expires the agreement.
    signature_validity_days: float = Field(default=30, gt=0)
    # Active reporting: a report task opens this many days before the report is due.
    report_lead_days: float = Field(default=30, gt=0)
    # When the portfolio report is mailed to program officers (cron, UTC): Mondays 07:00.
    portfolio_report_cron: str = "0 7 * * MON"
    # An agreement's workflow continues as new past this many history events.
    history_limit: int = Field(default=10_000, ge=100)

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "accord@localhost"
    smtp_timeout_seconds: float = 10

    # How long an HTTP request waits for the workflow to accept and apply a command.
    update_timeout_seconds: float = 30
    public_url: str = "http://127.0.0.1:8000"

    # The web app: a sign-in link (banner or e-mail) works once within this many minutes;
    # a browser session lasts this many hours. Browser assets (htmx, Swagger UI) are the
    # npm packages `make` installs into node_modules/, served by Accord itself.
    sign_in_link_minutes: float = Field(default=30, gt=0, le=24 * 60)
    browser_session_hours: float = Field(default=12, gt=0, le=24 * 30)
    assets_dir: Path = ROOT / "node_modules"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)


@lru_cache
def get_settings() -> Settings:
    return Settings()
