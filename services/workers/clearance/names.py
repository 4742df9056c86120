"""Party and list names in the form they are compared in, and the key of a party.

`normalise_name` takes accents, case, punctuation and legal forms away, so that
"Rosoboronexport OAO" and "ROSOBORONEXPORT" compare equal; `party_key` is what a
counsel's false-positive decision for a party is remembered under.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

LEGAL_FORMS = frozenset(
    {"co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited"}
    | {"llc", "plc", "gmbh", "ag", "sa", "the"}
    # Russian joint-stock and limited companies, and the English abbreviations of them
    | {"oao", "ooo", "pao", "jsc", "ojsc", "cjsc"}
)
# Letters NFKD does not decompose into a base letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "\u0131": "i",
        "æ": "ae",
        "Æ": "AE",
    }
    | {"œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "ħ": "h", "Ħ": "H"}
)
# Apostrophes vanish instead of splitting a word: "Xi'an" is "xian", as lists spell it.
_APOSTROPHES = re.compile(r"['`\u2018\u2019\u02bc\u02b9]")
# Dotted initials close up ("S.A." -> "sa", "U.S.A." -> "usa") so legal forms written
# that way are recognised; other punctuation becomes a space ("Co.,Ltd." -> "co ltd").
_INITIALS = re.compile(r"\b(?:\w\.){2,}")
_NOT_WORD = re.compile(r"[\W_]+")
# ScreeningClearance.party_key and Finding.party_key are String(300).
_MAX_PARTY_KEY = 300


def normalise_name(name: str) -> str:
    """The form names are compared in: no accents, case, punctuation or legal forms.

    "Rosoboronexport OAO" and "ROSOBORONEXPORT" both give "rosoboronexport". A name
    made only of legal-form tokens ("The Company Ltd") keeps them rather than becoming
    empty, so it still matches itself.
    """
    if name.isascii():  # most list entries and party names: nothing to decompose
        text = name.casefold()
    else:
        text = unicodedata.normalize("NFKD", name.translate(_UNDECOMPOSED))
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _APOSTROPHES.sub("", text)
    text = _INITIALS.sub(lambda m: m.group().replace(".", ""), text)
    tokens = _NOT_WORD.sub(" ", text).split()
    kept = [token for token in tokens if token not in LEGAL_FORMS]
    return " ".join(kept or tokens)


def party_key(party_name: str, country: str | None) -> str:
    """The key a counsel's false-positive decision for a party is remembered under."""
    name = normalise_name(party_name)
    country = (country or "").strip().upper()
    key = f"{name}|{country}"
    if len(key) > _MAX_PARTY_KEY:
        # NFKD can lengthen a name many times over (a ligature becomes several letters);
        # keep the key inside the column, still unique to the name.
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        keep = _MAX_PARTY_KEY - len(digest) - len(country) - 2
        key = f"{name[:keep]}~{digest}|{country}"
    return key
