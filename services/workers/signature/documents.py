"""The agreement document: the draft for signature, and the signed copy, as PDF.

Rendering is deterministic: the same DocumentRequest gives byte-identical output, so a
retried render reproduces the SHA-256 already stored and shown to the signatories.
That rules out wall-clock time (the creation date comes from the request or a fixed
date) and random identifiers (the PDF /ID is derived from the content).

The document is built in `sections.py` on the page layout of `layout.py`; the font and
the characters it can draw are chosen once per process in `fonts.py`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from services.workers.signature.fonts import machine_fonts
from services.workers.signature.sections import AgreementDocument
from workflows.signature.messages import DocumentRequest

__all__ = ["AssetLine", "render_agreement", "sha256_of"]


@dataclass(frozen=True)
class AssetLine:
    """An IP asset as the registry knows it, for the list of licensed assets."""

    identifier: str
    title: str
    jurisdiction: str
    status: str
    owner: str


def sha256_of(pdf: bytes) -> str:
    """The hex SHA-256 of a rendered document, as stored and shown to signatories."""
    return hashlib.sha256(pdf).hexdigest()


def render_agreement(request: DocumentRequest, assets: list[AssetLine] | None = None) -> bytes:
    """The agreement as PDF: the draft for signature, or, when the request carries
    signatures, the signed copy (the same pages plus a signature record)."""
    document = AgreementDocument(request, assets or [], machine_fonts())
    document.build()
    return bytes(document.output())
