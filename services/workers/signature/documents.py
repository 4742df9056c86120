"""The agreement document: the draft for signature, and the signed copy, as PDF.

Rendering is deterministic: the same DocumentRequest gives byte-identical output, so a
retried render reproduces the SHA-256 already stored and shown to the signatories.
That rules out wall-clock time (the creation date comes from the request or a fixed
date) and random identifiers (the PDF /ID is derived from the content).

Text goes through one font decision made per process: DejaVu Sans when installed (wide
Unicode coverage, embedded as a subset), else the core Helvetica, which only knows
Latin-1. Characters the chosen font cannot draw are replaced by a close ASCII form, or
'?' when there is none, so no name or summary can make a render fail.
Note: the same request rendered with and without DejaVu gives different bytes, so the
workers that render one agreement should share one font setup.

Loading the font was half of a worker's CPU under load (bench/lifecycle.py with
--profile): fpdf2 parses the whole TTF for every document, and DejaVu Sans has ~6,000
glyphs. So each process first cuts the faces down, once, to the scripts a document
can draw (`TEXT_RANGES`: Latin, Greek, Cyrillic, punctuation, currency, letter-like
symbols, arrows, mathematical operators) into a private temporary folder, and documents
load those: ~1,400 glyphs, parsed about six times faster. Scripts left out (Hebrew and
Arabic, which fpdf2 would not lay out right-to-left here anyway; CJK, which DejaVu
lacks) go through the same replacement as any character the font cannot draw.
"""

from __future__ import annotations

import hashlib
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from workflows.core.proposal import AgreementKind
from workflows.signature.messages import DocumentRequest, SignatureRecord

__all__ = ["AssetLine", "render_agreement", "sha256_of"]


@dataclass(frozen=True)
class AssetLine:
    """An IP asset as the registry knows it, for the list of licensed assets."""

    identifier: str
    title: str
    jurisdiction: str
    status: str
    owner: str


# Regular and bold faces, tried in order; the first pair that exists is used.
UNICODE_FONT_CANDIDATES: tuple[tuple[Path, Path], ...] = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf"),
        Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf"),
    ),
)
# Creation date of documents rendered before the agreement has an effective date.
FIXED_CREATION_DATE = datetime(2000, 1, 1, tzinfo=UTC)

_KIND_NAMES = {
    AgreementKind.LICENSE: "License agreement",
    AgreementKind.OPTION: "Option agreement",
    AgreementKind.TECHNOLOGY_TRANSFER: "Technology transfer agreement",
    AgreementKind.EXCHANGE_PROGRAM: "Exchange program agreement",
    AgreementKind.RESEARCH_COLLABORATION: "Research collaboration agreement",
    AgreementKind.MATERIAL_TRANSFER: "Material transfer agreement",
    AgreementKind.DEFENSE_SHARING: "Defense information sharing agreement",
}

# Typographic characters NFKD leaves alone, and letters it does not decompose.
_ASCII_FORMS = {
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": ",",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2022": "*",
    "\u2026": "...",
    "\u20ac": "EUR",
    "\u2122": "TM",
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u2248": "~",
    "\u2192": "->",
    "\u2190": "<-",
    "\u0141": "L",
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0131": "i",
    "\u0152": "OE",
    "\u0153": "oe",
    "\u0127": "h",
    "\u0126": "H",
    "\u014a": "NG",
    "\u014b": "ng",
    "\u0167": "t",
    "\u0166": "T",
}

_MARGIN = 18.0
_BODY_PT = 10.0
_SMALL_PT = 8.0
_LINE = 5.0


@dataclass(frozen=True)
class _Fonts:
    family: str
    files: tuple[Path, Path] | None  # regular, bold; None: core Helvetica
    charset: frozenset[int]

    def draws(self, char: str) -> bool:
        return ord(char) in self.charset


@lru_cache(maxsize=1)
def _fonts() -> _Fonts:
    """The font to use on this machine, with the characters it can draw."""
    latin1 = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))
    for regular, bold in UNICODE_FONT_CANDIDATES:
        if regular.is_file() and bold.is_file():
            try:
                regular, bold = _cut_down(regular, bold)
                charset = _cmap(regular) & _cmap(bold)
            except Exception:  # an unreadable font file: fall back to the core font
                continue
            return _Fonts("DejaVu", (regular, bold), frozenset(c for c in charset if c >= 0x20))
    return _Fonts("Helvetica", None, latin1)


TEXT_RANGES: tuple[range, ...] = (
    range(0x0020, 0x0370),  # Latin, its extensions, IPA, spacing and combining marks
    range(0x0370, 0x0530),  # Greek and Coptic, Cyrillic and its supplement
    range(0x1E00, 0x1F00),  # Latin Extended Additional (Vietnamese, Welsh, ...)
    range(0x2000, 0x2300),  # punctuation, currency, letter-like, arrows, maths
    range(0xFB00, 0xFB07),  # Latin ligatures
)


def _cut_down(regular: Path, bold: Path) -> tuple[Path, Path]:
    """The two faces with only the glyphs of TEXT_RANGES, written once per process."""
    from fontTools import subset  # fpdf2 depends on fontTools
    from fontTools.ttLib import TTFont

    folder = Path(tempfile.mkdtemp(prefix="accord-fonts-"))
    unicodes = [code for block in TEXT_RANGES for code in block]
    faces = []
    for source in (regular, bold):
        options = subset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
        options.name_IDs, options.name_languages = ["*"], ["*"]
        options.drop_tables += ["FFTM"]  # a timestamp table fontTools cannot subset
        with TTFont(str(source), recalcTimestamp=False) as font:
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=unicodes)
            subsetter.subset(font)
            font.save(str(folder / source.name))
        faces.append(folder / source.name)
    return faces[0], faces[1]


def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont  # fpdf2 depends on fontTools

    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _clean(text: str, fonts: _Fonts) -> str:
    """Text the font can draw: unknown characters become a close ASCII form, or '?'."""
    out: list[str] = []
    for char in text.replace("\r\n", "\n"):
        if char == "\n":
            out.append(char)
        elif char in "\t\r\v\f":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # control, format (zero-width, bidi), surrogate, private, unassigned
        elif fonts.draws(char):
            out.append(char)
        else:
            out.append(_substitute(char, fonts))
    return "".join(out)


def _substitute(char: str, fonts: _Fonts) -> str:
    if char in _ASCII_FORMS:
        return _ASCII_FORMS[char]
    if unicodedata.category(char) == "Zs":
        return " "
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(
        c if fonts.draws(c) else _ASCII_FORMS.get(c, "")
        for c in decomposed
        if not unicodedata.combining(c)
    )
    return kept or "?"


def sha256_of(pdf: bytes) -> str:
    """The hex SHA-256 of a rendered document, as stored and shown to signatories."""
    return hashlib.sha256(pdf).hexdigest()


def render_agreement(request: DocumentRequest, assets: list[AssetLine] | None = None) -> bytes:
    """The agreement as PDF: the draft for signature, or, when the request carries
    signatures, the signed copy (the same pages plus a signature record)."""
    document = _AgreementDocument(request, assets or [], _fonts())
    document.build()
    return bytes(document.output())


class _AgreementDocument(FPDF):
    def __init__(self, request: DocumentRequest, assets: list[AssetLine], fonts: _Fonts) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.request = request
        self.assets = {asset.identifier: asset for asset in assets}
        self.font_choice = fonts
        self.signed = bool(request.signatures)
        self._section = 0
        if fonts.files is not None:
            regular, bold = fonts.files
            self.add_font(fonts.family, "", str(regular))
            self.add_font(fonts.family, "B", str(bold))
        title = request.proposal.title
        self.heading = self.clean(f"Accord \u2014 {title}")
        created = request.effective_at or FIXED_CREATION_DATE
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        self.set_creation_date(created)
        self.set_title(title)
        self.set_subject(f"Agreement {request.agreement_id}, revision {request.revision}")
        self.set_author("Accord")
        self.set_creator("Accord")
        # Without the library version: an fpdf2 upgrade alone should not change the metadata.
        self.set_producer("Accord")
        self.set_lang("en")
        self.set_margins(_MARGIN, _MARGIN + 4, _MARGIN)
        self.set_auto_page_break(auto=True, margin=_MARGIN + 4)
        self.alias_nb_pages()

    # --- page furniture ------------------------------------------------------------

    def header(self) -> None:
        self.set_font(self.font_choice.family, "", _SMALL_PT)
        self.set_text_color(90)
        self.set_xy(self.l_margin, 10)
        self.cell(self.epw, 4, self.fit(self.heading, self.epw), align=Align.L)
        self.set_draw_color(170)
        self.line(self.l_margin, 15, self.w - self.r_margin, 15)
        self.set_text_color(0)
        self.set_draw_color(0)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-(_MARGIN - 2))
        self.set_font(self.font_choice.family, "", _SMALL_PT)
        self.set_text_color(90)
        self.cell(
            self.epw,
            4,
            f"Page {self.page_no()} of {self.str_alias_nb_pages}",
            align=Align.C,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_font(self.font_choice.family, "", _SMALL_PT - 1)
        self.cell(self.epw, 3.5, "Signed copy" if self.signed else "Draft for signature", align="C")
        self.set_text_color(0)

    # --- helpers -------------------------------------------------------------------

    def clean(self, text: str) -> str:
        return _clean(text, self.font_choice)

    def fit(self, text: str, width: float, lines: int = 1) -> str:
        """The text, cut with an ellipsis so it takes at most `lines` lines of `width`."""
        budget = width * lines - (0 if lines == 1 else width * 0.25)
        if self.get_string_width(text) <= budget:
            return text
        ellipsis = "\u2026" if self.font_choice.draws("\u2026") else "..."
        low, high = 0, len(text)
        while low < high:  # the longest prefix that fits with the ellipsis
            middle = (low + high + 1) // 2
            if self.get_string_width(text[:middle] + ellipsis) <= budget:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + ellipsis

    def text_height(self, text: str, width: float | None = None) -> float:
        """The height multi_cell will give the text in the current font."""
        lines = self.multi_cell(
            width or self.epw, _LINE, text, dry_run=True, output=MethodReturnValue.LINES
        )
        assert isinstance(lines, list)
        return len(lines) * _LINE

    def body_font(self, style: str = "", size: float = _BODY_PT) -> None:
        self.set_font(self.font_choice.family, style, size)

    def paragraph(self, text: str, style: str = "", size: float = _BODY_PT) -> None:
        self.body_font(style, size)
        self.multi_cell(
            self.epw, _LINE, self.clean(text), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )

    def section(self, title: str) -> None:
        self._section += 1
        if self.will_page_break(_LINE * 5):
            self.add_page()
        self.ln(4)
        self.body_font("B", 12)
        self.multi_cell(
            self.epw,
            7,
            self.clean(f"{self._section}. {title}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(1)
        self.body_font()

    def field(self, label: str, value: str, label_width: float = 52) -> None:
        """One labelled line of a section; the value wraps in its own column."""
        if self.will_page_break(_LINE):
            self.add_page()
        self.body_font("B")
        self.set_x(self.l_margin)
        self.multi_cell(
            label_width, _LINE, self.clean(label), align=Align.L, new_x=XPos.RIGHT, new_y=YPos.TOP
        )
        self.body_font()
        self.multi_cell(
            self.epw - label_width,
            _LINE,
            self.clean(value) or "-",
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def numbered(self, items: Sequence[str]) -> None:
        indent = 9.0
        self.body_font()
        for number, item in enumerate(items, start=1):
            if self.will_page_break(_LINE):
                self.add_page()
            self.set_x(self.l_margin)
            self.cell(indent, _LINE, f"{number}.", new_x=XPos.RIGHT, new_y=YPos.TOP)
            self.multi_cell(
                self.epw - indent,
                _LINE,
                self.clean(item) or "-",
                align=Align.L,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.ln(1)

    def grid(
        self,
        headings: Sequence[str],
        rows: Iterable[Sequence[str]],
        widths: Sequence[float],
        size: float = 9,
        styles: dict[int, FontFace] | None = None,
    ) -> None:
        """A table with a heading row repeated on each page; cells wrap."""
        self.body_font("", size)
        with self.table(
            col_widths=tuple(widths),
            width=self.epw,
            align=Align.L,
            text_align=Align.L,
            line_height=size * 0.45,
            borders_layout=TableBordersLayout.SINGLE_TOP_LINE,
            headings_style=FontFace(emphasis="BOLD", fill_color=(232, 235, 240)),
            padding=(1, 1.2),
            repeat_headings=1,
        ) as table:
            heading = table.row()
            for text in headings:
                heading.cell(self.clean(text))
            for values in rows:
                row = table.row()
                for index, text in enumerate(values):
                    style = (styles or {}).get(index)
                    row.cell(self.clean(text), style=style)
        self.body_font()

    # --- the document --------------------------------------------------------------

    def build(self) -> None:
        self.add_page()
        self.title_block()
        self.parties()
        self.summary()
        self.licensed_assets()
        self.terms()
        self.value()
        if self.request.proposal.export_control is not None:
            self.export_control()
        if self.request.conditions:
            self.conditions()
        self.signature_blocks()
        if self.signed:
            self.signature_record()

    def title_block(self) -> None:
        request, proposal = self.request, self.request.proposal
        self.body_font("B", 18)
        self.multi_cell(
            self.epw, 8, self.clean(proposal.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.ln(2)
        self.body_font("", 11)
        self.set_text_color(60)
        self.multi_cell(self.epw, 6, _kind_name(proposal.kind), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.body_font("", 9)
        self.multi_cell(
            self.epw,
            5,
            self.clean(f"Agreement {request.agreement_id} \u00b7 Revision {request.revision}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.body_font("B", 9)
        self.multi_cell(
            self.epw,
            5,
            "Signed copy" if self.signed else "Draft for signature",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_text_color(0)
        self.set_draw_color(120)
        self.ln(2)
        self.line(self.l_margin, self.y, self.w - self.r_margin, self.y)
        self.set_draw_color(0)
        self.ln(2)

    def parties(self) -> None:
        self.section("Parties")
        rows = [
            (party.name, party.country, party.role.value.capitalize())
            for party in self.request.proposal.parties
        ]
        self.grid(("Name", "Country", "Role"), rows, (6, 1.2, 2))

    def summary(self) -> None:
        self.section("Summary")
        self.paragraph(self.request.proposal.summary or "No summary given.")

    def licensed_assets(self) -> None:
        self.section("Licensed IP assets")
        identifiers = self.request.proposal.ip_assets
        if not identifiers:
            self.paragraph("No registered IP assets are named in this agreement.")
            return
        rows = []
        for identifier in identifiers:
            asset = self.assets.get(identifier)
            if asset is None:
                rows.append((identifier, "", "", "", ""))
            else:
                rows.append(
                    (identifier, asset.title, asset.jurisdiction, asset.status, asset.owner)
                )
        self.grid(
            ("Identifier", "Title", "Jurisdiction", "Status", "Owner"), rows, (3, 4.6, 2.2, 1.7, 3)
        )

    def terms(self) -> None:
        terms = self.request.proposal.terms
        self.section("Terms")
        self.field("Exclusive", "Yes" if terms.exclusive else "No")
        self.field("Field of use", terms.field_of_use or "Unrestricted")
        self.field("Territories", _territories(terms.territories))
        self.field("Term", _months(terms.term_months))
        self.field(
            "Royalty rate",
            "None" if terms.royalty_rate is None else f"{_decimal(terms.royalty_rate)} %",
        )
        self.field(
            "Reporting period",
            "No periodic reports"
            if terms.reporting_period_months is None
            else f"Every {_months(terms.reporting_period_months)}",
        )
        if not terms.milestones:
            self.field("Milestones", "None")
            return
        self.field("Milestones", f"{len(terms.milestones)}, listed below")
        self.ln(1)
        rows = [
            (milestone.name, f"{_months(milestone.due_after_months)} after the effective date")
            for milestone in terms.milestones
        ]
        self.grid(("Milestone", "Due"), rows, (3, 2))

    def value(self) -> None:
        proposal = self.request.proposal
        self.section("Estimated value")
        self.field("Estimated value", f"{proposal.estimated_value:,.2f} {proposal.currency}")

    def export_control(self) -> None:
        control = self.request.proposal.export_control
        assert control is not None
        self.section("Export control")
        self.field("Jurisdiction", control.jurisdiction.value)
        self.field("Classification", control.classification)
        self.field("License required", "Yes" if control.license_required else "No")
        self.field("License", control.license_number or "None recorded")

    def conditions(self) -> None:
        self.section("Conditions of IP clearance")
        self.paragraph("This agreement was cleared subject to the following conditions:")
        self.ln(1)
        self.numbered(self.request.conditions)

    def signature_blocks(self) -> None:
        self.section("Signatures")
        self.paragraph(
            "Signed by the persons below, each for and on behalf of the party named, in the "
            "signing order shown; signatories with the same order sign in parallel."
        )
        signatories = sorted(self.request.proposal.signatories, key=lambda s: s.order)
        for signatory in signatories:
            party = self.clean(f"For and on behalf of {signatory.on_behalf_of}")
            person = self.clean(
                f"Signatory: {signatory.email} \u00b7 Signing order {signatory.order}"
            )
            self.body_font("B")
            height = self.text_height(party)
            self.body_font("", 9)
            height += self.text_height(person)
            # Keep a block on one page: its text, the space to sign, the line and captions.
            if self.will_page_break(4 + height + 12 + 4.5 + 6):
                self.add_page()
            self.ln(4)
            self.body_font("B")
            self.multi_cell(self.epw, _LINE, party, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.body_font("", 9)
            self.multi_cell(self.epw, _LINE, person, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(12)
            line_y = self.y
            sign_width, gap = self.epw * 0.55, self.epw * 0.08
            date_x = self.l_margin + sign_width + gap
            self.line(self.l_margin, line_y, self.l_margin + sign_width, line_y)
            self.line(date_x, line_y, self.w - self.r_margin, line_y)
            self.body_font("", _SMALL_PT)
            self.set_text_color(90)
            self.set_xy(self.l_margin, line_y + 0.5)
            self.cell(sign_width, 4, "Signature, name and title")
            self.set_xy(date_x, line_y + 0.5)
            self.cell(self.epw - sign_width - gap, 4, "Date")
            self.set_text_color(0)
            self.set_xy(self.l_margin, line_y + 6)
        self.body_font()

    def signature_record(self) -> None:
        request = self.request
        self.add_page(orientation="L")
        self.body_font("B", 14)
        self.multi_cell(self.epw, 8, "Signature record", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.paragraph(
            f"Agreement {request.agreement_id}, revision {request.revision}. Each signatory "
            "signed the document whose SHA-256 is shown; times are UTC.",
            size=9,
        )
        self.ln(2)
        widths = (28, 40, 32, 11, 34, 30, 40, 46)
        scale = self.epw / sum(widths)
        ua_width = widths[6] * scale - 2.4
        size = 7.5
        self.body_font("", size)
        rows = []
        for signature in sorted(request.signatures, key=_record_order):
            user_agent = self.fit(self.clean(signature.user_agent or ""), ua_width, lines=3) or "-"
            digest = signature.document_sha256
            rows.append(
                (
                    signature.name,
                    signature.email,
                    signature.on_behalf_of,
                    str(signature.order),
                    _utc_iso(signature.signed_at),
                    signature.ip_address or "-",
                    user_agent,
                    "\n".join(digest[i : i + 32] for i in range(0, len(digest), 32)),
                )
            )
        self.grid(
            (
                "Name",
                "Email",
                "On behalf of",
                "Order",
                "Signed at (UTC)",
                "IP address",
                "User agent",
                "Document SHA-256",
            ),
            rows,
            widths,
            size=size,
            styles={7: FontFace(family="Courier", size_pt=6)},
        )
        self.ln(4)
        effective = request.effective_at
        self.field(
            "Effective date",
            _utc_iso(effective) if effective is not None else "Not yet recorded",
            label_width=40,
        )


def _record_order(signature: SignatureRecord) -> tuple[datetime, int, str]:
    return (_as_utc(signature.signed_at), signature.order, signature.email)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_iso(moment: datetime) -> str:
    return _as_utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def _kind_name(kind: AgreementKind) -> str:
    return _KIND_NAMES.get(kind) or kind.value.replace("_", " ").capitalize()


def _territories(codes: list[str]) -> str:
    if not codes or "WW" in codes:
        return "Worldwide"
    return ", ".join(codes)


def _months(count: int) -> str:
    return f"{count} month" if count == 1 else f"{count} months"


def _decimal(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
