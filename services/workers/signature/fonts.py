"""The font an agreement document is drawn in, and the text it can draw.

One font decision is made per process: DejaVu Sans when installed (wide Unicode
coverage, embedded as a subset), else the core Helvetica, which only knows Latin-1.
Characters the chosen font cannot draw are replaced by a close ASCII form, or '?' when
there is none, so no name or summary can make a render fail.
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

import tempfile
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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


@dataclass(frozen=True)
class Fonts:
    """A font family, its regular and bold faces, and the characters both draw."""

    family: str
    files: tuple[Path, Path] | None  # regular, bold; None: core Helvetica
    charset: frozenset[int]

    def draws(self, char: str) -> bool:
        return ord(char) in self.charset


@lru_cache(maxsize=1)
def machine_fonts() -> Fonts:
    """The font to use on this machine, with the characters it can draw."""
    latin1 = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x100))
    for regular, bold in UNICODE_FONT_CANDIDATES:
        if regular.is_file() and bold.is_file():
            try:
                regular, bold = _cut_down(regular, bold)
                charset = _cmap(regular) & _cmap(bold)
            except Exception:  # an unreadable font file: fall back to the core font
                continue
            return Fonts("DejaVu", (regular, bold), frozenset(c for c in charset if c >= 0x20))
    return Fonts("Helvetica", None, latin1)


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


def clean_text(text: str, fonts: Fonts) -> str:
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


def _substitute(char: str, fonts: Fonts) -> str:
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
