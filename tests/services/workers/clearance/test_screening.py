"""Restricted-party screening: loading the CSL file, matching names, the findings."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rapidfuzz import fuzz
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.config import ROOT, Settings
from services.store import ScreeningClearance, ScreeningEntry, ScreeningList, User
from services.store.session import create_session_factory
from services.workers.clearance.names import normalise_name, party_key
from services.workers.clearance.screening import (
    ScreeningHit,
    ScreeningMatcher,
    screening_findings,
)
from services.workers.clearance.screening_list import (
    ScreeningListError,
    load_screening_list,
    parse_screening_list,
)
from workflows.clearance.messages import FindingKind, Severity
from workflows.core.proposal import Party, PartyRole

SHIPPED = ROOT / "config" / "screening" / "consolidated_screening_list.json"
EL = "Entity List (EL) - Bureau of Industry and Security"
SDN = "Specially Designated Nationals (SDN) - Treasury Department"
SHIPPED_MATCHER = ScreeningMatcher.from_entries(
    parse_screening_list(SHIPPED).entries, "shipped", threshold=88
)


def _entry(entry_id: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"id": entry_id, "source": EL, "type": "Entity", "name": name} | fields


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _party(name: str, country: str = "DE") -> Party:
    return Party(name=name, country=country, role=PartyRole.LICENSEE)


def _names(hits: list[ScreeningHit]) -> list[str]:
    return [hit.entry_name for hit in hits]


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def shipped(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[ScreeningList]:
    """The shipped list is the one in force during the test, and again after it.

    The database is shared by the whole run, and other tests expect the shipped list.
    """
    async with sessions() as session:
        loaded = await load_screening_list(session, SHIPPED)
    yield loaded
    async with sessions() as session:
        await load_screening_list(session, SHIPPED)


async def _entry_ids(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with sessions() as session:
        rows = await session.execute(select(ScreeningEntry.id, ScreeningEntry.name))
        return {row.id: row.name for row in rows}


async def _newest(sessions: async_sessionmaker[AsyncSession]) -> ScreeningList:
    async with sessions() as session:
        newest = await session.scalar(
            select(ScreeningList).order_by(ScreeningList.loaded_at.desc()).limit(1)
        )
        assert newest is not None
        return newest


# --- The shipped list -------------------------------------------------------------------


def test_the_shipped_list_is_a_csl_excerpt_with_a_note() -> None:
    assert Settings.model_fields["screening_list_file"].default == SHIPPED
    document = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert "accord screening load" in document["source_note"]
    assert "data.trade.gov/consolidated_screening_list/v1" in document["source_note"]
    parsed = parse_screening_list(SHIPPED)
    assert 20 <= len(parsed.entries) <= 40 and parsed.duplicates == 0
    assert {entry.source for entry in parsed.entries} == {EL, SDN}
    assert all(entry.countries for entry in parsed.entries if entry.type != "Vessel")


@pytest.mark.parametrize(
    "name", ["State University", "Helio GmbH", "Kyoto Photonics", "Tehran Labs", "Volga Optics"]
)
def test_the_parties_other_tests_use_are_not_hits(name: str) -> None:
    assert SHIPPED_MATCHER.match(name, "US") == []


# --- Loading ----------------------------------------------------------------------------


async def test_a_list_of_entries_and_a_results_object_both_load(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList, tmp_path: Path
) -> None:
    entries = [
        _entry(
            "t-1",
            "Alpha Optronics Co., Ltd.",
            alt_names=["Alpha Opto"],
            programs=None,
            addresses=[{"city": "Wuhan", "country": "cn", "extra": 1}],
            federal_register_notice="ignored",
        ),
        {"id": 2, "source": SDN, "type": None, "name": "BETA MARINE"},
    ]
    plain = _write(tmp_path / "plain.json", entries)
    wrapped = _write(tmp_path / "wrapped.json", {"total": 2, "results": entries})

    async with sessions() as session:
        loaded = await load_screening_list(session, plain)
    assert loaded.entry_count == 2 and loaded.source == str(plain)
    assert await _entry_ids(sessions) == {"t-1": "Alpha Optronics Co., Ltd.", "2": "BETA MARINE"}

    async with sessions() as session:
        loaded = await load_screening_list(session, wrapped)
        alpha = await session.get(ScreeningEntry, "t-1")
        beta = await session.get(ScreeningEntry, "2")
    assert loaded.entry_count == 2
    assert alpha is not None and beta is not None
    assert alpha.alt_names == ["Alpha Opto"] and alpha.programs == []
    assert alpha.addresses == [
        {"address": None, "city": "Wuhan", "state": None, "postal_code": None, "country": "CN"}
    ]
    assert (beta.type, beta.alt_names, beta.addresses) == (None, [], [])


async def test_the_version_is_the_files_sha256_and_a_reload_adds_a_list_row(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList
) -> None:
    assert shipped.version == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(ScreeningList))
        again = await load_screening_list(session, SHIPPED)
        after = await session.scalar(select(func.count()).select_from(ScreeningList))
    assert again.id != shipped.id and again.version == shipped.version
    assert after == (before or 0) + 1
    assert len(await _entry_ids(sessions)) == shipped.entry_count


async def test_a_reload_replaces_every_entry_and_keeps_the_last_of_a_repeated_id(
    sessions: async_sessionmaker[AsyncSession],
    shipped: ScreeningList,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = _write(tmp_path / "a.json", [_entry("a-1", "Old One"), _entry("a-2", "Old Two")])
    second = _write(
        tmp_path / "b.json",
        {"results": [_entry("b-1", "First Name"), _entry("b-2", "Two"), _entry("b-1", "Last")]},
    )
    assert parse_screening_list(second).duplicates == 1

    async with sessions() as session:
        await load_screening_list(session, first)
    assert set(await _entry_ids(sessions)) == {"a-1", "a-2"}
    with caplog.at_level(logging.WARNING, logger="services.workers.clearance.screening_list"):
        async with sessions() as session:
            loaded = await load_screening_list(session, second)
    assert loaded.entry_count == 2
    assert "1 repeated ids; the last entry for each was kept" in caplog.text
    assert await _entry_ids(sessions) == {"b-1": "Last", "b-2": "Two"}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot be read"),
        ('{"results": [', "is not valid JSON"),
        (b"\xff\xfe\x00garbage", "is not valid JSON"),
        ('{"entries": []}', "object without 'results'"),
        ('{"results": {"id": "x"}}', "results must be a list"),
        ("[]", "contains no entries"),
        ('[{"id": "x", "name": "Fine"}, {"id": "y", "name": "  "}]', "entry [1] has no name"),
        ('{"results": [{"name": "No Id"}]}', "entry results[0] has no id"),
        ('{"results": [{"id": "p", "name": "..."}]}', "name '...' has no letters or digits"),
        ('{"results": [{"id": "z", "name": "Z", "alt_names": "Zed"}]}', "alt_names must be a list"),
        ('{"results": [{"id": "z", "name": "Z", "addresses": ["Moscow"]}]}', "address must be"),
        ('{"results": [{"id": "z", "name": {"en": "Z"}}]}', "name must be a string"),
        ('{"results": ["just a name"]}', "entry results[0] is a str"),
        (json.dumps([{"id": "x" * 101, "name": "Long Id"}]), "id is longer than 100"),
    ],
)
async def test_a_bad_file_is_refused_naming_it_and_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
    shipped: ScreeningList,
    tmp_path: Path,
    content: str | bytes | None,
    problem: str,
) -> None:
    path = tmp_path / "bad.json"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    async with sessions() as session:
        with pytest.raises(ScreeningListError, match=re.escape(problem)) as raised:
            await load_screening_list(session, path)
    assert str(path) in str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert (await _newest(sessions)).id == shipped.id
    assert len(await _entry_ids(sessions)) == shipped.entry_count


def _generated_list(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    syllables = [a + b for a in "bcdfghklmnprstvz" for b in "aeiou"]

    def word() -> str:
        return "".join(rng.choices(syllables, k=rng.randint(2, 4))).capitalize()

    return [
        {
            "id": f"gen-{i:05d}",
            "source": rng.choice([EL, SDN]),
            "type": rng.choice(["Entity", "Individual", None]),
            "name": " ".join(word() for _ in range(rng.randint(2, 4))) + " Co., Ltd.",
            "alt_names": [" ".join(word() for _ in range(2)) for _ in range(rng.randint(0, 3))],
            "programs": rng.sample(["RUSSIA-EO14024", "SDGT", "NPWMD", "IRAN"], k=2),
            "addresses": [
                {
                    "address": f"{i} {word()} Street",
                    "city": word(),
                    "country": rng.choice("CN RU IR"),
                }
            ],
        }
        for i in range(count)
    ]


async def test_twenty_thousand_entries_load_and_fifty_names_match_quickly(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList, tmp_path: Path
) -> None:
    entries = _generated_list(20_000)
    path = _write(tmp_path / "big.json", {"results": entries})

    started = time.perf_counter()
    async with sessions() as session:
        loaded = await load_screening_list(session, path)
    load_seconds = time.perf_counter() - started
    assert loaded.entry_count == 20_000

    started = time.perf_counter()
    async with sessions() as session:
        matcher = await ScreeningMatcher.from_session(session, 88)
    build_seconds = time.perf_counter() - started
    assert matcher is not None and matcher.entry_count == 20_000

    rng = random.Random(1)
    names = [rng.choice(entries)["name"].upper() for _ in range(25)]
    names += [name[:-12] + "x" for name in names]  # typo'd, no legal form: fuzzy
    started = time.perf_counter()
    results = [matcher.match(name, "CN") for name in names]
    match_seconds = time.perf_counter() - started
    assert all(results[:25]) and all(hits[0].exact for hits in results[:25])

    parties = [_party(name, "CN") for name in names]
    started = time.perf_counter()
    async with sessions() as session:
        findings = await screening_findings(session, parties, 88)
    findings_seconds = time.perf_counter() - started
    assert {f.subject for f in findings} >= set(names[:25])
    print(
        f"\n20,000 entries: load {load_seconds:.2f}s, matcher build {build_seconds:.2f}s, "
        f"50 names matched in {match_seconds * 1000:.0f} ms, "
        f"screening_findings for 50 parties {findings_seconds * 1000:.0f} ms"
    )


# --- Normalisation and matching ---------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Rosoboronexport OAO", "ROSOBORONEXPORT"),
        ("JSC Rosoboronexport", "rosoboronexport"),
        ("Huawei Technologies Co., Ltd.", "HUAWEI TECHNOLOGIES"),
        ("Huawei Technologies Düsseldorf GmbH", "Huawei Technologies Dusseldorf"),
        ("Société Générale S.A.", "SOCIETE GENERALE"),
        ("The Harbin Institute of Technology", "Harbin Institute of Technology"),
        ("Xi'an Aero-Engine Corp.", "XIAN AERO ENGINE"),
        ("Ørsted Łódź Inc", "orsted lodz"),
        ("".join(chr(ord(c) + 0xFEE0) for c in "HIKVISION"), "Hikvision"),  # full width,
    ],
)
def test_normalisation_drops_accents_case_punctuation_and_legal_forms(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_normalisation_keeps_a_name_made_only_of_legal_forms() -> None:
    assert normalise_name("The Company, Ltd.") == "the company ltd"
    assert normalise_name("  Beta   Marine ") == "beta marine"


def test_the_party_key_is_the_normalised_name_and_country() -> None:
    assert party_key("Rosoboronexport OAO", "RU") == "rosoboronexport|RU"
    assert party_key("ROSOBORONEXPORT", "RU") == party_key("Rosoboronexport OAO", "RU")
    assert party_key("Rosoboronexport", "RU") != party_key("Rosoboronexport", "DE")
    long_key = party_key("\ufdfa" * 200, "DE")
    assert len(long_key) <= 300 and long_key.endswith("|DE")
    assert long_key != party_key("\ufdfa" * 199, "DE")


def test_an_exact_match_on_the_name() -> None:
    (hit,) = SHIPPED_MATCHER.match("HUAWEI TECHNOLOGIES CO., LTD.", "CN")
    assert (hit.entry_name, hit.score, hit.exact) == ("Huawei Technologies Co., Ltd.", 100, True)
    (hit,) = SHIPPED_MATCHER.match("Huawei Technologies", "CN")
    assert hit.exact and hit.source == EL and hit.entry_countries == ("CN",)


def test_accents_and_legal_forms_do_not_hide_a_party() -> None:
    (hit,) = SHIPPED_MATCHER.match("Rosoboronexport", "RU")
    assert (hit.entry_name, hit.exact) == ("ROSOBORONEXPORT OAO", True)
    assert hit.programs == ("UKRAINE-EO13662", "RUSSIA-EO14024")
    (hit,) = SHIPPED_MATCHER.match("HUAWEI TECHNOLOGIES DUSSELDORF", "DE")
    assert (hit.entry_name, hit.exact) == ("Huawei Technologies Düsseldorf GmbH", True)


def test_a_name_inside_a_longer_one_is_not_a_hit() -> None:
    # The German subsidiary is an entry of its own; it does not also hit the parent.
    assert _names(SHIPPED_MATCHER.match("Huawei Technologies Düsseldorf GmbH", "DE")) == [
        "Huawei Technologies Düsseldorf GmbH"
    ]
    assert SHIPPED_MATCHER.match("Huawei Cloud Partners", "DE") == []
    assert SHIPPED_MATCHER.match("UAC Industrial Valves", "DE") == []


def test_a_fuzzy_match_counts_at_the_threshold_and_not_below_it() -> None:
    (hit,) = SHIPPED_MATCHER.match("Harbin Inst. of Technology", "CN")
    assert hit.entry_name == "Harbin Institute of Technology" and not hit.exact
    assert 88 <= hit.score < 95
    assert hit.score == round(
        fuzz.token_sort_ratio("harbin inst of technology", "harbin institute of technology"), 1
    )
    assert (
        SHIPPED_MATCHER.with_threshold(hit.score + 1).match("Harbin Inst. of Technology", "CN")
        == []
    )
    (typo,) = SHIPPED_MATCHER.match("Rosoboronexprot", "RU")
    assert typo.entry_name == "ROSOBORONEXPORT OAO" and 90 < typo.score < 95
    assert SHIPPED_MATCHER.match("Harbin Institute", "CN") == []
    assert SHIPPED_MATCHER.match("Harbin Technology Partners", "CN") == []


def test_an_exact_match_counts_whatever_the_threshold() -> None:
    strict = SHIPPED_MATCHER.with_threshold(100)
    assert _names(strict.match("Hikvision", "CN")) == [
        "Hangzhou Hikvision Digital Technology Co., Ltd."
    ]
    assert strict.match("Harbin Inst. of Technology", "CN") == []


def test_the_scores_are_token_sort_ratio_on_the_normalised_names() -> None:
    for name in ("Moscow Inst of Physics & Technology", "Northwestern Polytechnic Univ"):
        (hit,) = SHIPPED_MATCHER.match(name, "RU")
        expected = fuzz.token_sort_ratio(normalise_name(name), normalise_name(hit.matched_name))
        assert hit.score == round(expected, 1)


def test_matching_finds_what_comparing_every_name_finds(tmp_path: Path) -> None:
    # The matcher skips names too short or too long to reach the threshold, and scores
    # the rest with ratio on pre-sorted words: it must find what brute force finds.
    raw = _generated_list(2_000, seed=11)
    path = _write(tmp_path / "list.json", raw)
    matcher = ScreeningMatcher.from_entries(parse_screening_list(path).entries, "v", 80)
    rng = random.Random(5)
    queries = []
    for entry in rng.sample(raw, 100):
        name = rng.choice([entry["name"], *entry["alt_names"]])
        cut = rng.randint(0, len(name) - 1)
        queries.append(rng.choice([name, name[:cut] + name[cut + 1 :], name + " Ab", name[2:]]))
    listed = [
        (entry["id"], [normalise_name(n) for n in [entry["name"], *entry["alt_names"]]])
        for entry in raw
    ]
    for query in queries:
        normalised = normalise_name(query)
        expected = {}
        for entry_id, names in listed:
            score = max(fuzz.token_sort_ratio(normalised, name) for name in names)
            if score >= 80:
                expected[entry_id] = round(score, 1)
        assert {hit.entry_id: hit.score for hit in matcher.match(query, None)} == expected


def test_an_alt_name_matches_and_is_named() -> None:
    (hit,) = SHIPPED_MATCHER.match("Pasdaran", "IR")
    assert (hit.entry_name, hit.matched_name) == ("ISLAMIC REVOLUTIONARY GUARD CORPS", "PASDARAN")
    assert hit.exact and hit.entry_type == "Entity" and "SDGT" in hit.programs
    (hit,) = SHIPPED_MATCHER.match("Beijing Univ. of Aeronautics and Astronautics", "CN")
    assert hit.entry_name == "Beihang University" and not hit.exact
    assert hit.matched_name == "Beijing University of Aeronautics and Astronautics"


def test_one_hit_per_entry_for_its_best_name() -> None:
    # ROSOBORONEXPORT OAO, JSC ROSOBORONEXPORT and ROSOBORONEXPORT OJSC all normalise alike.
    hits = SHIPPED_MATCHER.match("Rosoboronexport Joint Stock Company", "RU")
    assert [(h.entry_name, h.matched_name, h.exact) for h in hits] == [
        ("ROSOBORONEXPORT OAO", "ROSOBORONEXPORT JOINT STOCK COMPANY", True)
    ]


def test_an_individual_matches_without_the_patronymic_and_in_either_order() -> None:
    (hit,) = SHIPPED_MATCHER.match("Vladimir Putin", "RU")
    assert hit.entry_name == "PUTIN, Vladimir Vladimirovich" and hit.score == 100
    assert not hit.exact and hit.entry_type == "Individual"
    (hit,) = SHIPPED_MATCHER.match("Vladimirovich Putin Vladimir", "RU")
    assert hit.score == 100


def test_hits_are_sorted_by_score(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "nordic.json",
        [
            _entry("1", "Nordic Photon Systems"),
            _entry("2", "Nordic Photon System"),
            _entry("3", "Nordic Photonic Systemz"),
        ],
    )
    matcher = ScreeningMatcher.from_entries(parse_screening_list(path).entries, "v", 85)
    hits = matcher.match("Nordic Photon Systems", None)
    assert [h.entry_id for h in hits] == ["1", "2", "3"]
    assert hits[0].score == 100 > hits[1].score > hits[2].score >= 85


def test_the_country_is_recorded_not_required() -> None:
    (home,) = SHIPPED_MATCHER.match("Hikvision", "CN")
    (abroad,) = SHIPPED_MATCHER.match("Hikvision", "US")
    (unknown,) = SHIPPED_MATCHER.match("Hikvision", None)
    assert home.country_match and not abroad.country_match and not unknown.country_match
    assert home.entry_id == abroad.entry_id == unknown.entry_id
    assert home.entry_countries == ("CN",)


def test_a_name_without_letters_matches_nothing() -> None:
    assert SHIPPED_MATCHER.match(" -- ", "DE") == []


# --- Findings ---------------------------------------------------------------------------


async def test_findings_for_hits_with_severity_and_evidence(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList
) -> None:
    parties = [
        _party("State University", "US"),
        _party("Hikvision", "US"),
        _party("Harbin Inst. of Technology", "CN"),
    ]
    async with sessions() as session:
        findings = await screening_findings(session, parties, 88)
    exact, fuzzy = findings
    assert exact.kind == fuzzy.kind == FindingKind.SCREENING_HIT
    assert exact.severity == Severity.CRITICAL and fuzzy.severity == Severity.WARNING
    assert exact.subject == "Hikvision" and exact.party_key == "hikvision|US"
    assert exact.summary == (
        "Hikvision matches 'Hangzhou Hikvision Digital Technology Co., Ltd.' (as 'Hikvision') "
        "on the Entity List (exact match)"
    )
    assert fuzzy.summary == (
        "Harbin Inst. of Technology matches 'Harbin Institute of Technology' on the Entity List "
        f"(score {fuzzy.evidence['score']:.0f})"
    )
    assert exact.screening_entry_id == exact.evidence["entry_id"] == "accord-el-0004"
    assert exact.evidence == {
        "entry_id": "accord-el-0004",
        "entry_name": "Hangzhou Hikvision Digital Technology Co., Ltd.",
        "matched_name": "Hikvision",
        "score": 100.0,
        "exact": True,
        "source": EL,
        "programs": [],
        "entry_countries": ["CN"],
        "country_match": False,
        "list_version": shipped.version,
    }
    assert fuzzy.evidence["country_match"] is True


async def test_a_high_fuzzy_score_is_critical_and_an_sdn_hit_names_its_list(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList
) -> None:
    async with sessions() as session:
        (finding,) = await screening_findings(session, [_party("Sberbank of Rusia", "RU")], 88)
    assert finding.severity == Severity.CRITICAL and finding.evidence["score"] >= 95
    assert "on the Specially Designated Nationals list" in finding.summary
    assert finding.evidence["programs"] == ["RUSSIA-EO14024"]


async def test_a_cleared_pair_is_not_raised_again_but_other_pairs_are(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList, tokens: dict[str, str]
) -> None:
    parties = [
        _party("Hikvision", "AQ"),
        _party("Hikvision", "BV"),  # the same name elsewhere is another party
        _party("Huawei Technologies", "AQ"),
    ]
    async with sessions() as session:
        counsel = await session.scalar(
            select(User.id).where(User.email == "iris.counsel@accord.test")
        )
        assert counsel is not None
        before = await screening_findings(session, parties, 88)
        assert [(f.subject, f.party_key) for f in before] == [
            ("Hikvision", "hikvision|AQ"),
            ("Hikvision", "hikvision|BV"),
            ("Huawei Technologies", "huawei technologies|AQ"),
        ]
        clearance = ScreeningClearance(
            party_key=party_key("Hikvision", "AQ"),
            entry_id="accord-el-0004",
            reason="Hikvision Antarctic Research Station, unrelated",
            decided_by=counsel,
            decided_at=datetime.now(UTC),
        )
        session.add(clearance)
        await session.commit()
    try:
        async with sessions() as session:
            after = await screening_findings(session, parties, 88)
        assert [(f.party_key, f.screening_entry_id) for f in after] == [
            ("hikvision|BV", "accord-el-0004"),
            ("huawei technologies|AQ", "accord-el-0001"),
        ]
        async with sessions() as session:
            # The party written differently is the same party: still cleared.
            assert await screening_findings(session, [_party("HIKVISION LTD.", "AQ")], 88) == []
    finally:
        async with sessions() as session:
            await session.execute(
                delete(ScreeningClearance).where(ScreeningClearance.id == clearance.id)
            )
            await session.commit()


async def test_a_party_named_twice_is_screened_once(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList
) -> None:
    parties = [_party("Hikvision", "CN"), _party("HIKVISION", "CN")]
    async with sessions() as session:
        findings = await screening_findings(session, parties, 88)
    assert [f.subject for f in findings] == ["Hikvision"]


async def test_without_a_loaded_list_one_finding_says_nothing_was_screened(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList
) -> None:
    async with sessions() as session:
        # Pretend no list was ever loaded, inside a transaction that is rolled back.
        await session.execute(delete(ScreeningList))
        findings = await screening_findings(session, [_party("Hikvision", "CN")], 88)
        await session.rollback()
    (finding,) = findings
    assert finding.kind == FindingKind.SCREENING_HIT and finding.severity == Severity.WARNING
    assert finding.subject == "screening list"
    assert finding.summary == "no screening list is loaded; parties were not screened"
    assert finding.evidence == {} and finding.screening_entry_id is None
    assert (await _newest(sessions)).id == shipped.id


async def test_the_matcher_is_cached_per_version_and_rebuilt_after_a_load(
    sessions: async_sessionmaker[AsyncSession], shipped: ScreeningList, tmp_path: Path
) -> None:
    async with sessions() as session:
        first = await ScreeningMatcher.from_session(session, 88)
        again = await ScreeningMatcher.from_session(session, 90)
        default = await ScreeningMatcher.from_session(session)
    assert first is not None and again is not None and default is not None
    assert first.version == again.version == shipped.version
    assert first._index is again._index is default._index  # compiled once for the version
    assert again.threshold == 90
    assert default.threshold == Settings().screening_threshold

    other = _write(tmp_path / "other.json", [_entry("o-1", "Quantum Lattice Works")])
    async with sessions() as session:
        loaded = await load_screening_list(session, other)
        rebuilt = await ScreeningMatcher.from_session(session, 88)
        findings = await screening_findings(
            session, [_party("Hikvision", "CN"), _party("Quantum Lattice Works", "US")], 88
        )
    assert rebuilt is not None and rebuilt.version == loaded.version != shipped.version
    assert rebuilt._index is not first._index
    assert _names(rebuilt.match("Quantum Lattice Works", "US")) == ["Quantum Lattice Works"]
    assert rebuilt.match("Hikvision", "CN") == []
    assert [f.screening_entry_id for f in findings] == ["o-1"]
    assert findings[0].evidence["list_version"] == loaded.version

    async with sessions() as session:
        await load_screening_list(session, SHIPPED)
        restored = await ScreeningMatcher.from_session(session, 88)
    assert restored is not None and restored.version == shipped.version
    assert _names(restored.match("Hikvision", "CN")) == [
        "Hangzhou Hikvision Digital Technology Co., Ltd."
    ]
