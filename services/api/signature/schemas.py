"""What signature shows: a reference to the document under signature, or signed."""

from __future__ import annotations

from pydantic import BaseModel


class DocumentRef(BaseModel):
    sha256: str
    url: str
