"""The agreement document's pages: margins, header and footer, and the building blocks
its sections are written with (paragraphs, numbered sections, fields, lists, tables).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from services.workers.signature.fonts import Fonts, clean_text
from workflows.signature.messages import DocumentRequest

# Creation date of documents rendered before the agreement has an effective date.
FIXED_CREATION_DATE = datetime(2000, 1, 1, tzinfo=UTC)

MARGIN = 18.0
BODY_PT = 10.0
SMALL_PT = 8.0
LINE = 5.0


class AgreementLayout(FPDF):
    """An A4 agreement document with its metadata and page furniture; no content yet."""

    def __init__(self, request: DocumentRequest, fonts: Fonts) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.request = request
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
        self.set_margins(MARGIN, MARGIN + 4, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 4)
        self.alias_nb_pages()

    # --- page furniture ------------------------------------------------------------

    def header(self) -> None:
        self.set_font(self.font_choice.family, "", SMALL_PT)
        self.set_text_color(90)
        self.set_xy(self.l_margin, 10)
        self.cell(self.epw, 4, self.fit(self.heading, self.epw), align=Align.L)
        self.set_draw_color(170)
        self.line(self.l_margin, 15, self.w - self.r_margin, 15)
        self.set_text_color(0)
        self.set_draw_color(0)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-(MARGIN - 2))
        self.set_font(self.font_choice.family, "", SMALL_PT)
        self.set_text_color(90)
        self.cell(
            self.epw,
            4,
            f"Page {self.page_no()} of {self.str_alias_nb_pages}",
            align=Align.C,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_font(self.font_choice.family, "", SMALL_PT - 1)
        self.cell(self.epw, 3.5, "Signed copy" if self.signed else "Draft for signature", align="C")
        self.set_text_color(0)

    # --- helpers -------------------------------------------------------------------

    def clean(self, text: str) -> str:
        return clean_text(text, self.font_choice)

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
            width or self.epw, LINE, text, dry_run=True, output=MethodReturnValue.LINES
        )
        assert isinstance(lines, list)
        return len(lines) * LINE

    def body_font(self, style: str = "", size: float = BODY_PT) -> None:
        self.set_font(self.font_choice.family, style, size)

    def paragraph(self, text: str, style: str = "", size: float = BODY_PT) -> None:
        self.body_font(style, size)
        self.multi_cell(
            self.epw, LINE, self.clean(text), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )

    def section(self, title: str) -> None:
        self._section += 1
        if self.will_page_break(LINE * 5):
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
        if self.will_page_break(LINE):
            self.add_page()
        self.body_font("B")
        self.set_x(self.l_margin)
        self.multi_cell(
            label_width, LINE, self.clean(label), align=Align.L, new_x=XPos.RIGHT, new_y=YPos.TOP
        )
        self.body_font()
        self.multi_cell(
            self.epw - label_width,
            LINE,
            self.clean(value) or "-",
            align=Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    def numbered(self, items: Sequence[str]) -> None:
        indent = 9.0
        self.body_font()
        for number, item in enumerate(items, start=1):
            if self.will_page_break(LINE):
                self.add_page()
            self.set_x(self.l_margin)
            self.cell(indent, LINE, f"{number}.", new_x=XPos.RIGHT, new_y=YPos.TOP)
            self.multi_cell(
                self.epw - indent,
                LINE,
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
