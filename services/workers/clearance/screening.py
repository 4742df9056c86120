"""Restricted-party screening: an agreement's parties against the list in force.

`screening_findings` matches the parties against the entries `load_screening_list`
(screening_list.py) stored. Names are compared after `normalise_name` (names.py),
fuzzily, with rapidfuzz; a hit a counsel cleared as a false positive (a
ScreeningClearance for the party key and the entry) is not raised again.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.config import get_settings
from services.store.screening import ScreeningClearance, ScreeningEntry, ScreeningList
from services.workers.clearance.names import normalise_name, party_key
from services.workers.clearance.screening_list import ListedEntry
from workflows.clearance.messages import Finding, FindingKind, Severity
from workflows.core.proposal import Party

# A hit scoring this much (or an exact match) is critical; below it, a warning.
CRITICAL_SCORE = 95.0

# --- Matching -----------------------------------------------------------------------


def _sorted_tokens(normalised: str) -> str:
    return " ".join(sorted(normalised.split()))


@dataclass(frozen=True)
class ScreeningHit:
    """A party name that matches a list entry (by its name or one of its alt names)."""

    entry_id: str
    entry_name: str
    matched_name: str
    score: float
    exact: bool
    source: str
    programs: tuple[str, ...]
    entry_countries: tuple[str, ...]
    country_match: bool
    entry_type: str | None = None


@dataclass(frozen=True)
class _Index:
    """What a version of the list compiles to; shared by matchers of any threshold."""

    version: str
    entries: tuple[ListedEntry, ...]
    # One choice per distinct normalised name of an entry, its words sorted; shortest
    # first, so a query only scans the lengths that can reach the threshold.
    choices: list[str] = field(repr=False)
    lengths: list[int] = field(repr=False)
    choice_entry: list[int] = field(repr=False)
    choice_name: list[str] = field(repr=False)
    # Normalised name -> choice positions, for exact matches.
    exact: dict[str, list[int]] = field(repr=False)

    @classmethod
    def build(cls, entries: Iterable[ListedEntry], version: str) -> _Index:
        listed = tuple(entries)
        found: list[tuple[str, int, str, str | None]] = []
        for position, entry in enumerate(listed):
            seen: set[str] = set()
            for name, normalised, as_listed in _forms(entry):
                if not normalised or normalised in seen:
                    continue
                seen.add(normalised)
                found.append(
                    (_sorted_tokens(normalised), position, name, normalised if as_listed else None)
                )
        found.sort(key=lambda choice: len(choice[0]))
        exact: dict[str, list[int]] = {}
        for at, (_choice, _position, _name, listed_as) in enumerate(found):
            if listed_as is not None:
                exact.setdefault(listed_as, []).append(at)
        return cls(
            version=version,
            entries=listed,
            choices=[choice for choice, _, _, _ in found],
            lengths=[len(choice) for choice, _, _, _ in found],
            choice_entry=[position for _, position, _, _ in found],
            choice_name=[name for _, _, name, _ in found],
            exact=exact,
        )

    def window(self, length: int, threshold: float) -> tuple[int, int]:
        """The choices long enough and short enough to score `threshold` against a query.

        ratio = 2 * common / (a + b) <= 2 * min(a, b) / (a + b), so with r = threshold/100
        a choice of length b can only reach it if a*r/(2-r) <= b <= a*(2-r)/r.
        """
        share = threshold / 100
        if share <= 0:
            return 0, len(self.choices)
        low = math.floor(length * share / (2 - share))
        high = math.ceil(length * (2 - share) / share)
        return bisect.bisect_left(self.lengths, low), bisect.bisect_right(self.lengths, high)


def _forms(entry: ListedEntry) -> Iterator[tuple[str, str, bool]]:
    """(listed name, normalised form, whether the form is the listed name itself).

    Individuals are listed "SURNAME, Given Patronymic" ("PUTIN, Vladimir Vladimirovich");
    parties name them "Vladimir Putin", which misses the full name by a whole word. The
    form "surname given" is matched too, for the listed name it came from.
    """
    for name in (entry.name, *entry.alt_names):
        yield name, normalise_name(name), True
    if (entry.type or "").casefold() != "individual":
        return
    for name in (entry.name, *entry.alt_names):
        surname, comma, given = name.partition(",")
        given_names = normalise_name(given).split()
        if comma and len(given_names) > 1:
            yield name, f"{normalise_name(surname)} {given_names[0]}".strip(), False


class ScreeningMatcher:
    """Matches party names against one version of the list.

    The scorer is token_sort_ratio: the Indel similarity of the two names with their
    words sorted, so word order does not matter ("KIM, Jong Un" = "Jong Un Kim") but
    every word counts. WRatio (and token_set_ratio) score a name found inside a longer
    one at 90 (100): "Huawei Technologies Düsseldorf GmbH" would hit "Huawei
    Technologies" at 90, and every party whose name merely contains a short listed
    alias ("UAC Industrial Valves" for UAC, "IEI Integration" for IEI) would be a hit:
    a flood of false positives counsel must clear one by one. With token_sort_ratio an
    extra word costs score (77 for the Düsseldorf example, 25 for UAC Industrial
    Valves) while typos and variant spellings still score high ("Rosoboronexprot" 93,
    "Harbin Inst. of Technology" 91). Listed subsidiaries are entries of their own
    (Huawei Technologies Düsseldorf GmbH is), and aliases match exactly.

    The choices are kept with their words already sorted and scored with fuzz.ratio
    against the query's sorted words: the same score as token_sort_ratio, which
    re-sorts every choice on every comparison and is about five times slower.
    """

    def __init__(self, index: _Index, threshold: float) -> None:
        self._index = index
        self.threshold = float(threshold)

    @classmethod
    def from_entries(
        cls, entries: Iterable[ListedEntry], version: str, threshold: float
    ) -> ScreeningMatcher:
        return cls(_Index.build(entries, version), threshold)

    @classmethod
    async def from_session(
        cls, session: AsyncSession, threshold: float | None = None
    ) -> ScreeningMatcher | None:
        """The matcher for the list in force, or None if no list was ever loaded.

        The threshold defaults to the `screening_threshold` setting.

        Compiled once per list version and kept for the process, so a worker screening
        agreement after agreement reads and compiles the entries only after a new load.
        """
        if threshold is None:
            threshold = get_settings().screening_threshold
        for _attempt in range(5):
            newest = await _newest_list(session)
            if newest is None:
                return None
            list_id, version = newest
            index = _CACHE.get(version)
            if index is not None:
                return cls(index, threshold)
            entries = await _read_entries(session)
            # A load committing between the two reads would pair one version with
            # another's entries; the entries are only cached if no load came between.
            if await _newest_list(session) == (list_id, version):
                index = _Index.build(entries, version)
                _CACHE[version] = index
                while len(_CACHE) > _CACHE_SIZE:
                    del _CACHE[next(iter(_CACHE))]
                return cls(index, threshold)
        raise RuntimeError("the screening list kept changing while it was being read")

    @property
    def version(self) -> str:
        return self._index.version

    @property
    def entry_count(self) -> int:
        return len(self._index.entries)

    def with_threshold(self, threshold: float) -> ScreeningMatcher:
        return ScreeningMatcher(self._index, threshold)

    def match(self, name: str, country: str | None) -> list[ScreeningHit]:
        """The entries this party name matches, one hit per entry, best score first.

        A hit is kept whatever the party's country (listed parties trade through
        subsidiaries abroad); `country_match` tells whether the country is among the
        entry's addresses.
        """
        normalised = normalise_name(name)
        if not normalised:
            return []
        index = self._index
        best: dict[int, tuple[float, bool, int]] = {}
        for choice in index.exact.get(normalised, ()):
            best[index.choice_entry[choice]] = (100.0, True, choice)
        query = _sorted_tokens(normalised)
        first, end = index.window(len(query), self.threshold)
        found = process.extract(
            query,
            index.choices[first:end],
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=self.threshold,
            limit=None,
        )
        for _choice, score, offset in found:
            choice = first + offset
            owner = index.choice_entry[choice]
            if owner not in best or score > best[owner][0]:
                best[owner] = (float(score), False, choice)
        country = (country or "").strip().upper()
        hits = []
        for position, (score, exact, choice) in best.items():
            entry = index.entries[position]
            countries = entry.countries
            hits.append(
                ScreeningHit(
                    entry_id=entry.id,
                    entry_name=entry.name,
                    matched_name=index.choice_name[choice],
                    score=round(score, 1),
                    exact=exact,
                    source=entry.source,
                    programs=entry.programs,
                    entry_countries=countries,
                    country_match=bool(country) and country in countries,
                    entry_type=entry.type,
                )
            )
        hits.sort(key=lambda hit: (-hit.score, not hit.exact, hit.entry_name, hit.entry_id))
        return hits


# version -> compiled list; a couple of versions at most (a reload, and the one before).
_CACHE: dict[str, _Index] = {}
_CACHE_SIZE = 2


async def _newest_list(session: AsyncSession) -> tuple[str, str] | None:
    row = (
        await session.execute(
            select(ScreeningList.id, ScreeningList.version)
            .order_by(ScreeningList.loaded_at.desc(), ScreeningList.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (row.id, row.version)


async def _read_entries(session: AsyncSession) -> list[ListedEntry]:
    result = await session.execute(
        select(
            ScreeningEntry.id,
            ScreeningEntry.source,
            ScreeningEntry.type,
            ScreeningEntry.name,
            ScreeningEntry.alt_names,
            ScreeningEntry.programs,
            ScreeningEntry.addresses,
        ).order_by(ScreeningEntry.id)
    )
    return [
        ListedEntry(
            id=row.id,
            source=row.source,
            type=row.type,
            name=row.name,
            alt_names=tuple(row.alt_names or ()),
            programs=tuple(row.programs or ()),
            addresses=tuple(row.addresses or ()),
        )
        for row in result
    ]


# --- Findings -----------------------------------------------------------------------


def _list_name(source: str) -> str:
    """ "Entity List (EL) - Bureau of Industry and Security" -> "Entity List"."""
    short = re.split(r" \(| - ", source, maxsplit=1)[0].strip()
    if not short:
        return "screening list"
    return short if short.casefold().endswith("list") else f"{short} list"


def _summary(party: str, hit: ScreeningHit) -> str:
    alias = "" if hit.matched_name == hit.entry_name else f" (as '{hit.matched_name}')"
    how = "exact match" if hit.exact else f"score {hit.score:.0f}"
    return f"{party} matches '{hit.entry_name}'{alias} on the {_list_name(hit.source)} ({how})"


async def screening_findings(
    session: AsyncSession, parties: Sequence[Party], threshold: float
) -> list[Finding]:
    """A SCREENING_HIT finding for each party and list entry it matches.

    Pairs a counsel cleared as false positives are left out. If no list was ever
    loaded, one warning says the parties were not screened.
    """
    matcher = await ScreeningMatcher.from_session(session, threshold)
    if matcher is None:
        return [
            Finding(
                kind=FindingKind.SCREENING_HIT,
                severity=Severity.WARNING,
                subject="screening list",
                summary="no screening list is loaded; parties were not screened",
                evidence={},
            )
        ]
    screened: dict[str, tuple[Party, list[ScreeningHit]]] = {}
    for party in parties:
        key = party_key(party.name, party.country)
        if key not in screened:
            screened[key] = (party, matcher.match(party.name, party.country))
    cleared: set[tuple[str, str]] = set()
    keys = [key for key, (_party, hits) in screened.items() if hits]
    if keys:
        rows = await session.execute(
            select(ScreeningClearance.party_key, ScreeningClearance.entry_id).where(
                ScreeningClearance.party_key.in_(keys)
            )
        )
        cleared = {(row.party_key, row.entry_id) for row in rows}
    findings = []
    for key, (party, hits) in screened.items():
        for hit in hits:
            if (key, hit.entry_id) in cleared:
                continue
            critical = hit.exact or hit.score >= CRITICAL_SCORE
            findings.append(
                Finding(
                    kind=FindingKind.SCREENING_HIT,
                    severity=Severity.CRITICAL if critical else Severity.WARNING,
                    subject=party.name,
                    summary=_summary(party.name, hit),
                    evidence={
                        "entry_id": hit.entry_id,
                        "entry_name": hit.entry_name,
                        "matched_name": hit.matched_name,
                        "score": hit.score,
                        "exact": hit.exact,
                        "source": hit.source,
                        "programs": list(hit.programs),
                        "entry_countries": list(hit.entry_countries),
                        "country_match": hit.country_match,
                        "list_version": matcher.version,
                    },
                    screening_entry_id=hit.entry_id,
                    party_key=key,
                )
            )
    return findings
