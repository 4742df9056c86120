"""Browser sign-in: single-use sign-in links and the cookie sessions they open.

Both keep only the SHA-256 of their secret, as users' tokens do: a copy of the
database signs nobody in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.store.base import Base, IdMixin


class SignInLink(IdMixin, Base):
    """A link that signs its user in once, before it expires (banner or e-mail)."""

    __tablename__ = "sign_in_links"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class BrowserSession(IdMixin, Base):
    """A signed-in browser: the cookie carries the secret, the row its hash and CSRF token."""

    __tablename__ = "browser_sessions"
    __table_args__ = (Index("ix_browser_sessions_user_id", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
