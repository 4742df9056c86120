"""The agreement document: what it shows, and that a render can be repeated exactly."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from services.config import ROOT
from services.workers.signature import fonts
from services.workers.signature.documents import AssetLine, render_agreement, sha256_of
from tests.factories import proposal
from workflows.core.proposal import Proposal
from workflows.signature.messages import DocumentRequest, SignatureRecord

UNICODE_FONT_INSTALLED = any(
    regular.is_file() and bold.is_file() for regular, bold in fonts.UNICODE_FONT_CANDIDATES
)
EFFECTIVE = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
ASSETS = [
    AssetLine(
        identifier="US-11223344-B2",
        title="Perovskite tandem solar cell",
        jurisdiction="US",
        status="granted",
        owner="State University",
    )
]


@pytest.fixture(params=["unicode", "core"])
def font(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test using it runs with DejaVu Sans (when installed) and with core Helvetica."""
    if request.param == "unicode" and not UNICODE_FONT_INSTALLED:
        pytest.skip("DejaVu Sans is not installed here")
    if request.param == "core":
        monkeypatch.setattr(fonts, "UNICODE_FONT_CANDIDATES", ())
    fonts.machine_fonts.cache_clear()
    yield request.param
    fonts.machine_fonts.cache_clear()


def _request(
    *, conditions: list[str] | None = None, revision: int = 3, **overrides: Any
) -> DocumentRequest:
    overrides.setdefault("title", "Perovskite solar cell license")
    overrides.setdefault("ip_assets", ["US-11223344-B2"])
    return DocumentRequest(
        agreement_id="agr_0123456789",
        revision=revision,
        proposal=Proposal.model_validate(proposal(**overrides)),
        conditions=conditions or [],
    )


def _signed(request: DocumentRequest, digest: str) -> DocumentRequest:
    signatures = [
        SignatureRecord(
            task_id="task-1",
            user_id="user-sid",
            name="Sid Signatory",
            email="sid.signatory@accord.test",
            on_behalf_of="State University",
            order=1,
            signed_at=datetime(2026, 11, 20, 14, 5, 7, tzinfo=UTC),
            ip_address="192.0.2.10",
            user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            document_sha256=digest,
        ),
        SignatureRecord(
            task_id="task-2",
            user_id="user-sofia",
            name="Sofia Signatory",
            email="sofia.signatory@accord.test",
            on_behalf_of="Helio GmbH",
            order=2,
            signed_at=EFFECTIVE,
            ip_address="2001:db8::1",
            user_agent=None,
            document_sha256=digest,
        ),
    ]
    return request.model_copy(update={"signatures": signatures, "effective_at": EFFECTIVE})


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _text(data: bytes) -> str:
    return "\n".join(_pages(data))


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- content ---------------------------------------------------------------------


def test_the_draft_shows_the_agreement(font: str) -> None:
    milestones = [{"name": "First commercial sale", "due_after_months": 24}]
    terms = proposal()["terms"] | {"milestones": milestones}
    request = _request(ip_assets=["US-11223344-B2", "EP-9999999"], terms=terms)

    data = render_agreement(request, ASSETS)
    text = _text(data)

    assert data.startswith(b"%PDF-")
    for expected in (
        "Perovskite solar cell license",
        "Agreement agr_0123456789",
        "Revision 3",
        "License agreement",
        "1. Parties",
        "State University US Licensor",
        "Helio GmbH DE Licensee",
        "Exclusive license of the perovskite tandem-cell patent family.",
        "Licensed IP assets",
        "Perovskite tandem solar cell",
        "granted",
        "EP-9999999",  # not in the registry: listed by identifier
        "Exclusive Yes",
        "Field of use photovoltaics",
        "Territories DE, FR",
        "Term 60 months",
        "Royalty rate 3.5 %",
        "Reporting period Every 6 months",
        "First commercial sale",
        "24 months after the effective date",
        "250,000.00 USD",
        "For and on behalf of State University",
        "sid.signatory@accord.test",
        "For and on behalf of Helio GmbH",
        "sofia.signatory@accord.test",
        "Signing order 2",
        "Signature, name and title",
        "Draft for signature",
    ):
        assert expected in text, expected
    for absent in ("Conditions of IP clearance", "Export control", "Signature record"):
        assert absent not in text
    assert "Signed copy" not in text


def test_every_page_has_the_header_and_page_numbers() -> None:
    data = render_agreement(_request(summary="Long enough to fill pages. " * 350))
    pages = _pages(data)
    assert len(pages) >= 3
    heading = (
        "Accord \u2014 Perovskite solar cell license" if UNICODE_FONT_INSTALLED else "Accord -"
    )
    for number, page in enumerate(pages, start=1):
        assert heading in page
        assert f"Page {number} of {len(pages)}" in page
        assert "Draft for signature" in page


def test_the_kind_and_worldwide_territories_read_as_words() -> None:
    terms = proposal()["terms"] | {"territories": ["WW"], "exclusive": False}
    text = _text(render_agreement(_request(kind="technology_transfer", terms=terms)))
    assert "Technology transfer agreement" in text
    assert "Territories Worldwide" in text
    assert "Exclusive No" in text

    no_territories = proposal()["terms"] | {"territories": []}
    assert "Territories Worldwide" in _text(render_agreement(_request(terms=no_territories)))


def test_the_export_control_classification_is_shown_when_present() -> None:
    control = {"jurisdiction": "ITAR", "classification": "XI", "license_number": "DSP-5 050-123456"}
    text = _text(render_agreement(_request(kind="defense_sharing", export_control=control)))
    assert "Defense information sharing agreement" in text
    assert "Export control" in text
    assert "Jurisdiction ITAR" in text
    assert "Classification XI" in text
    assert "License required Yes" in text
    assert "DSP-5 050-123456" in text


def test_conditions_are_a_numbered_list_only_when_there_are_any() -> None:
    conditions = [
        "The licensee records the inventor assignment before the first sale.",
        "No sublicence to a party on a restricted list.",
    ]
    text = _text(render_agreement(_request(conditions=conditions)))
    assert "Conditions of IP clearance" in text
    assert f"1. {conditions[0]}" in text
    assert f"2. {conditions[1]}" in text
    assert "Conditions of IP clearance" not in _text(render_agreement(_request()))


def test_an_agreement_without_assets_says_so() -> None:
    text = _text(render_agreement(_request(ip_assets=[]), ASSETS))
    assert "No registered IP assets are named in this agreement." in text
    assert "Perovskite tandem solar cell" not in text


# --- determinism -----------------------------------------------------------------


def test_rendering_twice_gives_the_same_bytes(font: str) -> None:
    request = _request(conditions=["Record the assignment."])
    first = render_agreement(request, ASSETS)
    second = render_agreement(request.model_copy(deep=True), list(ASSETS))
    assert first == second
    assert sha256_of(first) == sha256_of(second)

    signed = _signed(request, sha256_of(first))
    assert render_agreement(signed, ASSETS) == render_agreement(signed, ASSETS)


def test_another_process_renders_the_same_bytes() -> None:
    """A retried activity may run on another worker: a new process with its own hash seed."""
    request = _request(parties=[*proposal()["parties"], _party("Żółć Technologies", "PL")])
    request = _signed(request, "ab" * 32)
    script = (
        "import sys\n"
        "from services.workers.signature.documents import render_agreement, sha256_of, AssetLine\n"
        "from workflows.signature.messages import DocumentRequest\n"
        "request = DocumentRequest.model_validate_json(sys.stdin.read())\n"
        "assets = [AssetLine('US-11223344-B2', 'Perovskite tandem solar cell', 'US', "
        "'granted', 'State University')]\n"
        "print(sha256_of(render_agreement(request, assets)))\n"
    )
    env = os.environ | {"PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=request.model_dump_json(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == sha256_of(render_agreement(request, ASSETS))


def test_the_creation_date_comes_from_the_request_never_the_clock() -> None:
    request = _request()
    draft = render_agreement(request)
    metadata = PdfReader(io.BytesIO(draft)).metadata
    assert metadata is not None
    assert metadata.creation_date == datetime(2000, 1, 1, tzinfo=UTC)

    signed = PdfReader(io.BytesIO(render_agreement(_signed(request, sha256_of(draft))))).metadata
    assert signed is not None
    assert signed.creation_date == EFFECTIVE


def test_sha256_of_is_the_hex_digest() -> None:
    data = render_agreement(_request())
    assert sha256_of(data) == hashlib.sha256(data).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256_of(data))


# --- the signed copy -------------------------------------------------------------


def test_the_signed_copy_adds_the_signature_record(font: str) -> None:
    request = _request(conditions=["Record the assignment."])
    draft = render_agreement(request, ASSETS)
    digest = sha256_of(draft)

    signed = render_agreement(_signed(request, digest), ASSETS)
    draft_pages, signed_pages = _pages(draft), _pages(signed)

    assert len(signed_pages) == len(draft_pages) + 1
    record = signed_pages[-1]
    assert "Signature record" in record
    for expected in (
        "Sid Signatory",
        "sid.signatory@accord.test",
        "State University",
        "2026-11-20T14:05:07Z",
        "192.0.2.10",
        "Firefox/133.0",
        "Sofia Signatory",
        "sofia.signatory@accord.test",
        "Helio GmbH",
        "2001:db8::1",
        "Effective date 2026-11-21T09:30:00Z",
    ):
        assert expected in record, expected
    assert _squeezed(record).count(digest) == 2
    assert all("Signed copy" in page for page in signed_pages)
    assert "Draft for signature" not in _text(signed).replace("Signed copy", "")
    # The signed copy carries the whole agreement the signatories saw.
    assert "Conditions of IP clearance" in _text(signed)
    assert "Perovskite tandem solar cell" in _text(signed)
    assert f"of {len(signed_pages)}" in signed_pages[0]


def test_a_long_user_agent_is_cut_to_fit() -> None:
    request = _request()
    signed = _signed(request, "cd" * 32)
    long_agent = "Mozilla/5.0 " + "VeryLongToken/1.0 " * 60 + "TheEnd/9"
    signed.signatures[0].user_agent = long_agent
    record = _pages(render_agreement(signed))[-1]
    assert "Mozilla/5.0" in record
    assert "TheEnd/9" not in record
    assert "Sid Signatory" in record


# --- text that does not fit easily -------------------------------------------------


def _party(name: str, country: str, role: str = "partner") -> dict[str, str]:
    return {"name": name, "country": country, "role": role}


def test_names_outside_latin1_render(font: str) -> None:
    parties = [_party("Żółć Technologies", "PL", "licensor"), _party("北京大学", "CN", "licensee")]
    signatories = [
        {"email": "z@zolc.test", "on_behalf_of": "Żółć Technologies", "order": 1},
        {"email": "pku@pku.test", "on_behalf_of": "北京大学", "order": 1},
    ]
    request = _request(
        title="Żółć Technologies \u2014 北京大学 “exchange” ≥ 2",
        parties=parties,
        signatories=signatories,
        summary="Naïve café résumé, Œuvre, Łódź, 東京, emoji 🙂, tab\there.",
        conditions=["Ερευνητική χρήση μόνο", "Исследование"],
    )
    data = render_agreement(request)
    text = _text(data)

    assert "z@zolc.test" in text
    assert "pku@pku.test" in text
    assert "Naïve café résumé" in text  # Latin-1: always drawn as is
    if font == "unicode":
        assert "Żółć Technologies" in text
        assert "Łódź" in text
        assert "Ερευνητική χρήση μόνο" in text
        assert "Исследование" in text
    else:
        assert "Zólc Technologies" in text
        assert "Lódz" in text
        assert '"exchange" >= 2' in text
        assert "OEuvre" in text
    # No glyph for CJK in either font: replaced, never dropped silently or raising.
    assert "????" in text
    signed = render_agreement(_signed(request, sha256_of(data)))
    assert "Signature record" in _pages(signed)[-1]


def test_the_core_font_is_used_when_dejavu_is_missing(font: str) -> None:
    data = render_agreement(_request())
    if font == "core":
        assert b"/BaseFont /Helvetica" in data
        assert b"/FontFile2" not in data
    else:
        assert b"DejaVuSans" in data
        assert b"/FontFile2" in data


def test_a_long_summary_wraps_onto_several_pages(font: str) -> None:
    words = " ".join(f"clause{n}" for n in range(850))
    unbroken = "Z" * 600
    request = _request(summary=f"{words} {unbroken} THE-END", conditions=["Q" * 3000])

    data = render_agreement(request)
    pages = _pages(data)
    text = "\n".join(pages)

    assert len(pages) >= 4
    assert "clause0 " in text
    assert "clause849" in text
    assert "THE-END" in text
    # Unbroken words are cut across lines (and maybe pages), none of them lost.
    assert text.count("Z") == 600
    assert text.count("Q") == 3000
    # Wrapped: no line of the summary runs off the page.
    summary_lines = [line for line in text.splitlines() if "clause" in line]
    assert len(summary_lines) > 50
    assert max(len(line) for line in summary_lines) < 130


def test_fifty_parties_and_a_hundred_assets(font: str) -> None:
    parties = [
        _party(f"Partner Institute {n:02d} of Applied Research and Development", "DE")
        for n in range(50)
    ]
    signatories = [
        {"email": f"signer{n}@partner{n}.test", "on_behalf_of": parties[n]["name"], "order": n + 1}
        for n in range(20)
    ]
    identifiers = [f"EP-{3000000 + n}-B1" for n in range(100)]
    assets = [
        AssetLine(
            identifier=identifier,
            title=f"Method and apparatus number {n} for a very particular purpose",
            jurisdiction="EP",
            status="granted",
            owner="Partner Institute 00 of Applied Research and Development",
        )
        for n, identifier in enumerate(identifiers)
        if n % 3  # a third are not in the registry
    ]
    milestones = [{"name": f"Milestone {n}", "due_after_months": n + 1} for n in range(50)]
    request = _request(
        kind="research_collaboration",
        parties=parties,
        signatories=signatories,
        ip_assets=identifiers,
        terms=proposal()["terms"] | {"milestones": milestones},
    )

    data = render_agreement(request, assets)
    pages = _pages(data)
    text = "\n".join(pages)

    assert len(pages) > 5
    for party in parties:
        assert party["name"] in text
    for identifier in identifiers:
        assert identifier in text
    assert "Method and apparatus number 99" not in text  # 99 % 3 == 0: not in the registry
    assert "Method and apparatus number 98" in text
    assert "Milestone 49" in text
    assert "signer19@partner19.test" in text
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_scripts_outside_the_cut_down_font_are_replaced(font: str) -> None:
    """DejaVu draws Hebrew and Armenian, but the faces are cut down to TEXT_RANGES for
    speed: such letters are replaced like any the font cannot draw, never raising."""
    request = _request(
        title="Hebrew \u05e9\u05dc\u05d5\u05dd and Armenian \u0532\u0561\u0580\u0565\u0582"
    )
    text = _text(render_agreement(request))
    assert "Hebrew ???? and Armenian ?????" in text
