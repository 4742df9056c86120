"""A stored document: the draft under signature, then the signed copy the term keeps."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StoredDocument(BaseModel):
    document_id: str
    kind: str = Field(description="draft | signed")
    sha256: str
    size: int
