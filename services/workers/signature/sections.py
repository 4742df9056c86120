"""The agreement's content: its sections in order, the signature blocks, and the
signature record page the signed copy adds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from services.workers.signature.fonts import Fonts
from services.workers.signature.layout import LINE, SMALL_PT, AgreementLayout
from workflows.core.proposal import AgreementKind
from workflows.signature.messages import DocumentRequest, SignatureRecord

if TYPE_CHECKING:
    from services.workers.signature.documents import AssetLine

_KIND_NAMES = {
    AgreementKind.LICENSE: "License agreement",
    AgreementKind.OPTION: "Option agreement",
    AgreementKind.TECHNOLOGY_TRANSFER: "Technology transfer agreement",
    AgreementKind.EXCHANGE_PROGRAM: "Exchange program agreement",
    AgreementKind.RESEARCH_COLLABORATION: "Research collaboration agreement",
    AgreementKind.MATERIAL_TRANSFER: "Material transfer agreement",
    AgreementKind.DEFENSE_SHARING: "Defense information sharing agreement",
}


class AgreementDocument(AgreementLayout):
    """The agreement, built page by page by `build`."""

    def __init__(self, request: DocumentRequest, assets: list[AssetLine], fonts: Fonts) -> None:
        super().__init__(request, fonts)
        self.assets = {asset.identifier: asset for asset in assets}

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
            self.multi_cell(self.epw, LINE, party, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.body_font("", 9)
            self.multi_cell(self.epw, LINE, person, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(12)
            line_y = self.y
            sign_width, gap = self.epw * 0.55, self.epw * 0.08
            date_x = self.l_margin + sign_width + gap
            self.line(self.l_margin, line_y, self.l_margin + sign_width, line_y)
            self.line(date_x, line_y, self.w - self.r_margin, line_y)
            self.body_font("", SMALL_PT)
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
