"""The automatic IP checks: each rule, the overlap edge cases, and a clean asset."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.store import Agreement, IpAsset, IpLicense, User
from services.store.base import utcnow
from services.store.session import create_session_factory
from services.workers.clearance.ip_checks import (
    asset_findings,
    export_control_findings,
    fields_overlap,
    overlapping_territories,
)
from tests.factories import proposal
from workflows.clearance.messages import Finding, FindingKind, Severity
from workflows.core.proposal import Proposal

TODAY = utcnow().date()
AGREEMENT_ID = str(uuid.uuid4())  # the agreement under check: no row needed


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture
async def admin_id(sessions: async_sessionmaker[AsyncSession], tokens: dict[str, str]) -> str:
    async with sessions() as session:
        found = await session.scalar(select(User.id).where(User.email == "ada.admin@accord.test"))
    assert found is not None
    return found


@pytest.fixture
def registry(sessions: async_sessionmaker[AsyncSession], admin_id: str) -> Registry:
    return Registry(sessions, admin_id)


class Registry:
    """Writes registry rows straight to the database, as counsel would through the API."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], admin_id: str) -> None:
        self.sessions = sessions
        self.admin_id = admin_id

    async def asset(self, *licenses: dict[str, Any], **overrides: Any) -> str:
        """A clean asset (granted, in force, assigned, unfunded) with these licenses."""
        identifier = overrides.pop("identifier", None) or f"US-{uuid.uuid4().hex[:10]}-B2"
        fields: dict[str, Any] = {
            "identifier": identifier,
            "asset_type": "patent",
            "title": "Perovskite tandem solar cell",
            "jurisdiction": "US",
            "status": "granted",
            "owner": "State University",
            "filed_on": TODAY - timedelta(days=5 * 365),
            "expires_on": TODAY + timedelta(days=15 * 365),
            "inventors": [{"name": "Ada Lovelace", "assignment_recorded": True}],
            "funding": [],
            "created_by": self.admin_id,
        }
        fields.update(overrides)
        async with self.sessions() as session:
            asset = IpAsset(**fields)
            session.add(asset)
            await session.flush()
            for license_ in licenses:
                session.add(IpLicense(asset_id=asset.id, **license_fields(**license_)))
            await session.commit()
        return identifier

    async def agreement(self) -> str:
        """An agreement row, for licenses an agreement granted."""
        now = utcnow()
        agreement_id = str(uuid.uuid4())
        async with self.sessions() as session:
            session.add(
                Agreement(
                    id=agreement_id,
                    workflow_id=f"agreement-{agreement_id}",
                    title="Earlier license",
                    kind="license",
                    status="active",
                    officer_id=self.admin_id,
                    ip_assets=[],
                    terms={"exclusive": True, "term_months": 60},
                    estimated_value=Decimal("1000.00"),
                    currency="USD",
                    created_at=now,
                    updated_at=now,
                    status_changed_at=now,
                )
            )
            await session.commit()
        return agreement_id


def license_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "licensee": "Sol Corp",
        "exclusive": True,
        "field_of_use": "photovoltaics",
        "territories": ["DE"],
        "starts_on": TODAY - timedelta(days=365),
        "ends_on": None,
        "active": True,
        "agreement_id": None,
    }
    fields.update(overrides)
    return fields


def proposed(*assets: str, **terms: Any) -> Proposal:
    """The factory's proposal (exclusive, photovoltaics, DE + FR) on these assets."""
    body = proposal(ip_assets=list(assets))
    body["terms"] = {**body["terms"], **terms}
    return Proposal.model_validate(body)


async def check(
    registry: Registry, proposal_: Proposal, agreement_id: str = AGREEMENT_ID
) -> list[Finding]:
    async with registry.sessions() as session:
        findings = await asset_findings(session, proposal_, agreement_id)
    for finding in findings:
        assert finding.id is None
        assert finding.summary.strip() and "\n" not in finding.summary
        json.dumps(finding.evidence)  # storable as it is
    return findings


def kinds(findings: list[Finding]) -> list[tuple[FindingKind, Severity]]:
    return [(f.kind, f.severity) for f in findings]


# --- clean and unknown assets ---------------------------------------------------------


async def test_a_clean_asset_produces_no_finding(registry: Registry) -> None:
    identifier = await registry.asset(
        # Nonexclusive, elsewhere, ended, or inactive: none stands in the way.
        license_fields(exclusive=False, territories=["US"]),
        license_fields(territories=["JP"]),
        license_fields(ends_on=TODAY - timedelta(days=1)),
        license_fields(active=False),
        license_fields(field_of_use="medical imaging"),
    )
    assert await check(registry, proposed(identifier)) == []


async def test_a_proposal_without_assets_produces_no_finding(registry: Registry) -> None:
    assert await check(registry, proposed()) == []


async def test_an_unregistered_asset_is_critical(registry: Registry) -> None:
    known = await registry.asset()
    unknown = f"US-{uuid.uuid4().hex[:10]}-B1"

    findings = await check(registry, proposed(unknown, known, unknown))

    assert kinds(findings) == [(FindingKind.ASSET_NOT_REGISTERED, Severity.CRITICAL)]
    assert findings[0].subject == unknown
    assert findings[0].evidence == {"identifier": unknown}
    assert unknown in findings[0].summary


async def test_assets_are_loaded_in_two_queries(registry: Registry, engine: AsyncEngine) -> None:
    identifiers = [
        await registry.asset(license_fields(), license_fields(territories=["JP"])) for _ in range(3)
    ]
    with count_statements(engine) as statements:
        findings = await check(registry, proposed(*identifiers, "US-NOT-THERE"))
    assert len(findings) == 4
    assert 1 <= len(statements) <= 2, statements


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        # Only the checks' own reads: connecting may run statements of its own.
        if "ip_assets" in args[2] or "ip_licenses" in args[2]:
            statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


# --- lapse ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["expired", "abandoned"])
async def test_an_expired_or_abandoned_asset_is_critical(registry: Registry, status: str) -> None:
    expires_on = TODAY - timedelta(days=30)
    identifier = await registry.asset(status=status, expires_on=expires_on)

    [finding] = await check(registry, proposed(identifier))

    assert (finding.kind, finding.severity) == (FindingKind.ASSET_LAPSED, Severity.CRITICAL)
    assert finding.subject == identifier
    assert finding.evidence == {"status": status, "expires_on": expires_on.isoformat()}
    assert status in finding.summary


async def test_an_abandoned_application_without_expiry(registry: Registry) -> None:
    identifier = await registry.asset(
        status="abandoned", asset_type="patent_application", expires_on=None
    )
    [finding] = await check(registry, proposed(identifier))
    assert finding.evidence == {"status": "abandoned", "expires_on": None}


async def test_a_granted_asset_past_its_expiry_is_a_warning(registry: Registry) -> None:
    expires_on = TODAY - timedelta(days=1)
    identifier = await registry.asset(expires_on=expires_on)

    [finding] = await check(registry, proposed(identifier))

    assert (finding.kind, finding.severity) == (FindingKind.ASSET_LAPSED, Severity.WARNING)
    assert finding.evidence["status"] == "granted"
    assert finding.evidence["expires_on"] == expires_on.isoformat()
    assert expires_on.isoformat() in finding.summary


@pytest.mark.parametrize(
    ("status", "expires_in_days"), [("granted", 0), ("granted", 1), ("pending", -10)]
)
async def test_an_asset_in_force_today_has_not_lapsed(
    registry: Registry, status: str, expires_in_days: int
) -> None:
    identifier = await registry.asset(
        status=status, expires_on=TODAY + timedelta(days=expires_in_days)
    )
    assert await check(registry, proposed(identifier)) == []


# --- assignments ----------------------------------------------------------------------


async def test_inventors_without_a_recorded_assignment_are_named(registry: Registry) -> None:
    identifier = await registry.asset(
        inventors=[
            {"name": "Ada Lovelace", "assignment_recorded": True},
            {"name": "Charles Babbage", "assignment_recorded": False},
            {"name": "Mary Somerville", "assignment_recorded": False},
        ]
    )

    [finding] = await check(registry, proposed(identifier))

    assert (finding.kind, finding.severity) == (FindingKind.ASSIGNMENT_MISSING, Severity.WARNING)
    assert finding.evidence["inventors"] == ["Charles Babbage", "Mary Somerville"]
    assert "Charles Babbage and Mary Somerville" in finding.summary
    assert "Ada Lovelace" not in finding.summary


@pytest.mark.parametrize("asset_type", ["patent", "patent_application"])
async def test_a_patent_without_inventors_is_a_warning(registry: Registry, asset_type: str) -> None:
    identifier = await registry.asset(asset_type=asset_type, inventors=[])

    [finding] = await check(registry, proposed(identifier))

    assert (finding.kind, finding.severity) == (FindingKind.ASSIGNMENT_MISSING, Severity.WARNING)
    assert finding.evidence["inventors"] == []


@pytest.mark.parametrize("asset_type", ["software", "know_how", "trademark", "copyright"])
async def test_other_assets_need_no_inventors(registry: Registry, asset_type: str) -> None:
    identifier = await registry.asset(asset_type=asset_type, inventors=[])
    assert await check(registry, proposed(identifier)) == []


# --- license conflicts ----------------------------------------------------------------


async def test_an_existing_exclusive_license_that_overlaps_is_a_conflict(
    registry: Registry,
) -> None:
    starts_on, ends_on = TODAY - timedelta(days=100), TODAY + timedelta(days=100)
    identifier = await registry.asset(
        license_fields(
            licensee="Sol Corp", territories=["FR", "IT"], starts_on=starts_on, ends_on=ends_on
        )
    )

    [finding] = await check(registry, proposed(identifier, exclusive=False))

    assert (finding.kind, finding.severity) == (FindingKind.LICENSE_CONFLICT, Severity.CRITICAL)
    assert finding.subject == identifier
    evidence = finding.evidence
    assert uuid.UUID(evidence.pop("license_id"))
    assert evidence == {
        "licensee": "Sol Corp",
        "exclusive": True,
        "field_of_use": "photovoltaics",
        "territories": ["FR", "IT"],
        "starts_on": starts_on.isoformat(),
        "ends_on": ends_on.isoformat(),
        "agreement_id": None,
        "overlapping_territories": ["FR"],
        "proposed_exclusive": False,
        "proposed_field_of_use": "photovoltaics",
    }
    assert "Sol Corp" in finding.summary and "FR" in finding.summary


async def test_a_proposed_exclusive_license_conflicts_with_any_overlapping_one(
    registry: Registry,
) -> None:
    identifier = await registry.asset(license_fields(exclusive=False, licensee="Lumen SA"))

    [finding] = await check(registry, proposed(identifier, exclusive=True))
    assert finding.kind == FindingKind.LICENSE_CONFLICT
    assert finding.evidence["exclusive"] is False
    assert finding.evidence["overlapping_territories"] == ["DE"]
    assert "Lumen SA" in finding.summary

    assert await check(registry, proposed(identifier, exclusive=False)) == []


@pytest.mark.parametrize(
    ("existing", "proposed_territories", "overlap"),
    [
        (["WW"], ["DE", "FR"], ["DE", "FR"]),
        (["DE", "FR"], ["WW"], ["DE", "FR"]),
        (["WW"], ["WW"], ["WW"]),
        (["US", "DE"], [], ["DE", "US"]),  # no territories proposed: worldwide
        (["WW"], [], ["WW"]),
        (["FR", "DE", "US"], ["DE", "FR", "JP"], ["DE", "FR"]),
        (["JP"], ["DE", "FR"], None),
        (["US", "CA"], ["MX"], None),
    ],
)
async def test_territories_overlap(
    registry: Registry,
    existing: list[str],
    proposed_territories: list[str],
    overlap: list[str] | None,
) -> None:
    identifier = await registry.asset(license_fields(territories=existing))
    findings = await check(registry, proposed(identifier, territories=proposed_territories))
    conflicts = [f for f in findings if f.kind == FindingKind.LICENSE_CONFLICT]
    if overlap is None:
        assert conflicts == []
    else:
        [conflict] = conflicts
        assert conflict.evidence["overlapping_territories"] == overlap


@pytest.mark.parametrize(
    ("existing", "proposed_field", "overlaps"),
    [
        (None, "photovoltaics", True),
        ("photovoltaics", None, True),
        ("photovoltaics", "", True),
        (None, None, True),
        ("", "medical imaging", True),
        ("Photovoltaics", "  PHOTOVOLTAICS ", True),
        ("building-integrated   photovoltaics", "Photovoltaics", True),
        ("photovoltaics", "Building-integrated\tPhotovoltaics", True),
        ("solar  thermal collectors", "SOLAR THERMAL", True),
        ("photovoltaics", "medical imaging", False),
        ("solar thermal", "photovoltaics", False),
    ],
)
async def test_fields_of_use_overlap(
    registry: Registry, existing: str | None, proposed_field: str | None, overlaps: bool
) -> None:
    identifier = await registry.asset(license_fields(field_of_use=existing))
    findings = await check(registry, proposed(identifier, field_of_use=proposed_field))
    assert [f.kind for f in findings] == ([FindingKind.LICENSE_CONFLICT] if overlaps else [])
    assert fields_overlap(existing, proposed_field) is overlaps
    assert fields_overlap(proposed_field, existing) is overlaps


@pytest.mark.parametrize(
    ("ends_in_days", "active", "conflicts"),
    [
        (None, True, True),
        (1, True, True),
        (365, True, True),
        (0, True, False),  # ends today: not in force in the future
        (-1, True, False),
        (-400, True, False),
        (None, False, False),
        (365, False, False),
    ],
)
async def test_only_licenses_in_force_conflict(
    registry: Registry, ends_in_days: int | None, active: bool, conflicts: bool
) -> None:
    ends_on = None if ends_in_days is None else TODAY + timedelta(days=ends_in_days)
    identifier = await registry.asset(
        license_fields(starts_on=TODAY - timedelta(days=500), ends_on=ends_on, active=active)
    )
    findings = await check(registry, proposed(identifier))
    assert [f.kind for f in findings] == ([FindingKind.LICENSE_CONFLICT] if conflicts else [])


async def test_a_future_exclusive_license_conflicts_already(registry: Registry) -> None:
    identifier = await registry.asset(license_fields(starts_on=TODAY + timedelta(days=90)))
    assert [f.kind for f in await check(registry, proposed(identifier))] == [
        FindingKind.LICENSE_CONFLICT
    ]


async def test_the_agreements_own_license_is_no_conflict(registry: Registry) -> None:
    own, other = await registry.agreement(), await registry.agreement()
    identifier = await registry.asset(
        license_fields(agreement_id=own, licensee="Helio GmbH"),
        license_fields(agreement_id=other, licensee="Sol Corp", territories=["FR"]),
    )

    [finding] = await check(registry, proposed(identifier), agreement_id=own)
    assert finding.evidence["agreement_id"] == other
    assert finding.evidence["licensee"] == "Sol Corp"

    found = await check(registry, proposed(identifier), agreement_id=other)
    assert [f.evidence["agreement_id"] for f in found] == [own]


async def test_each_conflicting_license_is_a_finding(registry: Registry) -> None:
    identifier = await registry.asset(
        license_fields(licensee="Early", starts_on=TODAY - timedelta(days=900)),
        license_fields(licensee="Late", exclusive=False, territories=["WW"]),
        license_fields(licensee="Elsewhere", territories=["BR"]),
    )
    findings = await check(registry, proposed(identifier))
    assert [f.evidence["licensee"] for f in findings] == ["Early", "Late"]


def test_overlapping_territories_directly() -> None:
    assert overlapping_territories(["WW"], ["DE"]) == ["DE"]
    assert overlapping_territories([], ["DE"]) == ["DE"]
    assert overlapping_territories(["DE"], None) == ["DE"]
    assert overlapping_territories(["DE", "US"], ["US", "DE"]) == ["DE", "US"]
    assert overlapping_territories(["DE"], ["FR"]) == []


# --- funding --------------------------------------------------------------------------

_NSF = {"source": "government", "agency": "NSF", "award_number": "DMR-1234567"}
_ACME = {"source": "sponsor", "agency": "Acme Corp", "award_number": "SRA-2021-07"}


async def test_government_funding_reserves_the_governments_license(registry: Registry) -> None:
    identifier = await registry.asset(funding=[_NSF])

    [finding] = await check(registry, proposed(identifier, exclusive=False))

    assert (finding.kind, finding.severity) == (FindingKind.GOVERNMENT_RIGHTS, Severity.WARNING)
    assert finding.subject == identifier
    assert finding.evidence == {"agency": "NSF", "award_number": "DMR-1234567"}
    for words in ("nonexclusive", "royalty-free", "Bayh-Dole", "35 U.S.C. 202(c)(4)"):
        assert words in finding.summary


@pytest.mark.parametrize(
    ("territories", "manufacture"),
    [
        (["US"], True),
        (["DE", "US"], True),
        (["WW"], True),
        ([], True),
        (["DE", "FR"], False),
    ],
)
async def test_an_exclusive_license_reaching_the_us_must_manufacture_there(
    registry: Registry, territories: list[str], manufacture: bool
) -> None:
    identifier = await registry.asset(funding=[_NSF])

    findings = await check(registry, proposed(identifier, territories=territories))

    expected = [(FindingKind.GOVERNMENT_RIGHTS, Severity.WARNING)]
    if manufacture:
        expected.append((FindingKind.US_MANUFACTURE, Severity.WARNING))
    assert kinds(findings) == expected
    if manufacture:
        assert "35 U.S.C. 204" in findings[1].summary
        assert findings[1].evidence["awards"] == [{"agency": "NSF", "award_number": "DMR-1234567"}]


async def test_a_nonexclusive_license_need_not_manufacture_in_the_us(registry: Registry) -> None:
    identifier = await registry.asset(funding=[_NSF])
    findings = await check(registry, proposed(identifier, exclusive=False, territories=["US"]))
    assert [f.kind for f in findings] == [FindingKind.GOVERNMENT_RIGHTS]


async def test_sponsor_funding_is_information(registry: Registry) -> None:
    identifier = await registry.asset(funding=[_ACME])

    [finding] = await check(registry, proposed(identifier, territories=["US"]))

    assert (finding.kind, finding.severity) == (FindingKind.SPONSOR_RIGHTS, Severity.INFO)
    assert finding.evidence == {"agency": "Acme Corp", "award_number": "SRA-2021-07"}
    assert "Acme Corp" in finding.summary


async def test_every_rule_on_one_asset_in_order(registry: Registry) -> None:
    identifier = await registry.asset(
        license_fields(territories=["WW"], field_of_use=None),
        status="expired",
        inventors=[{"name": "Charles Babbage", "assignment_recorded": False}],
        funding=[_NSF, _ACME, {"source": "government", "agency": "DOE", "award_number": None}],
    )

    findings = await check(registry, proposed(identifier, territories=["US"]))

    assert kinds(findings) == [
        (FindingKind.ASSET_LAPSED, Severity.CRITICAL),
        (FindingKind.ASSIGNMENT_MISSING, Severity.WARNING),
        (FindingKind.LICENSE_CONFLICT, Severity.CRITICAL),
        (FindingKind.GOVERNMENT_RIGHTS, Severity.WARNING),
        (FindingKind.SPONSOR_RIGHTS, Severity.INFO),
        (FindingKind.GOVERNMENT_RIGHTS, Severity.WARNING),
        (FindingKind.US_MANUFACTURE, Severity.WARNING),
    ]
    assert {f.subject for f in findings} == {identifier}
    assert findings[5].evidence == {"agency": "DOE", "award_number": None}
    assert [a["agency"] for a in findings[6].evidence["awards"]] == ["NSF", "DOE"]


# --- export control -------------------------------------------------------------------


def export(kind: str = "defense_sharing", control: dict[str, Any] | None = None) -> Proposal:
    body = proposal(kind=kind)
    if control is not None:
        body["export_control"] = control
    return Proposal.model_validate(body)


def test_defense_sharing_without_a_classification_is_critical() -> None:
    [finding] = export_control_findings(export())
    assert (finding.kind, finding.severity) == (
        FindingKind.EXPORT_CLASSIFICATION_MISSING,
        Severity.CRITICAL,
    )
    assert finding.subject == "export control"
    assert finding.id is None
    json.dumps(finding.evidence)


@pytest.mark.parametrize("kind", ["license", "research_collaboration", "material_transfer"])
def test_other_kinds_need_no_classification(kind: str) -> None:
    assert export_control_findings(export(kind)) == []


@pytest.mark.parametrize(
    ("control", "evidence"),
    [
        ({"jurisdiction": "ITAR", "classification": "XI"}, ("ITAR", "XI")),
        ({"jurisdiction": "ITAR", "classification": "xi(a)"}, ("ITAR", "XI(A)")),
        ({"jurisdiction": "EAR", "classification": "3A001"}, ("EAR", "3A001")),
    ],
)
@pytest.mark.parametrize("kind", ["defense_sharing", "technology_transfer"])
def test_a_controlled_item_without_an_export_license_is_critical(
    control: dict[str, Any], evidence: tuple[str, str], kind: str
) -> None:
    [finding] = export_control_findings(export(kind, control))
    assert (finding.kind, finding.severity) == (
        FindingKind.EXPORT_LICENSE_MISSING,
        Severity.CRITICAL,
    )
    assert finding.subject == "export control"
    assert finding.evidence == {"jurisdiction": evidence[0], "classification": evidence[1]}
    assert json.loads(json.dumps(finding.evidence)) == finding.evidence


@pytest.mark.parametrize(
    "control",
    [
        {"jurisdiction": "EAR", "classification": "EAR99"},
        {"jurisdiction": "ITAR", "classification": "XI", "license_number": "DSP-5 050123456"},
        {"jurisdiction": "EAR", "classification": "3A001", "license_number": "D1234567"},
    ],
)
def test_a_classified_and_licensed_sharing_is_clear(control: dict[str, Any]) -> None:
    assert export_control_findings(export(control=control)) == []
