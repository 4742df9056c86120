"""The automatic IP clearance checks: the assets a proposal names, and its export control.

Each rule yields a Finding a counsel can read on its own: a one-sentence summary and the
facts it rests on (JSON-ready, dates as ISO strings). The workflow gives findings ids.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.store import IpAsset, IpLicense
from services.store.base import utcnow
from workflows.clearance.messages import Finding, FindingKind, Severity
from workflows.core.proposal import AgreementKind, Proposal, Terms

WORLDWIDE = "WW"
EXPORT_CONTROL = "export control"
_LAPSED = ("expired", "abandoned")
_NEEDS_INVENTORS = ("patent", "patent_application")


def _today() -> date:
    return utcnow().date()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


async def asset_findings(
    session: AsyncSession, proposal: Proposal, agreement_id: str
) -> list[Finding]:
    """Findings on every asset the proposal names, in the proposal's order.

    Two queries: the assets, then their licenses. Licenses granted by `agreement_id`
    itself (a revised agreement checked again) are not conflicts.
    """
    identifiers = list(dict.fromkeys(proposal.ip_assets))
    if not identifiers:
        return []
    rows = await session.scalars(
        select(IpAsset)
        .where(IpAsset.identifier.in_(identifiers))
        .options(selectinload(IpAsset.licenses))
    )
    assets = {asset.identifier: asset for asset in rows}
    today = _today()
    findings: list[Finding] = []
    for identifier in identifiers:
        asset = assets.get(identifier)
        if asset is None:
            findings.append(_not_registered(identifier))
            continue
        findings += _lapse(asset, today)
        findings += _assignments(asset)
        findings += _conflicts(asset, proposal.terms, agreement_id, today)
        findings += _funding(asset, proposal.terms)
    return findings


def export_control_findings(proposal: Proposal) -> list[Finding]:
    """A defense-sharing proposal must be classified; a controlled one needs its license."""
    control = proposal.export_control
    if control is None:
        if proposal.kind != AgreementKind.DEFENSE_SHARING:
            return []
        return [
            Finding(
                kind=FindingKind.EXPORT_CLASSIFICATION_MISSING,
                severity=Severity.CRITICAL,
                subject=EXPORT_CONTROL,
                summary=(
                    "This defense-sharing agreement gives no export-control classification "
                    "(EAR or ITAR) of what it shares."
                ),
                evidence={"kind": proposal.kind.value},
            )
        ]
    if control.license_required and control.license_number is None:
        return [
            Finding(
                kind=FindingKind.EXPORT_LICENSE_MISSING,
                severity=Severity.CRITICAL,
                subject=EXPORT_CONTROL,
                summary=(
                    f"What is shared is controlled ({control.jurisdiction.value} "
                    f"{control.classification}) but no export license is named."
                ),
                evidence={
                    "jurisdiction": control.jurisdiction.value,
                    "classification": control.classification,
                },
            )
        ]
    return []


# --- one rule each --------------------------------------------------------------------


def _not_registered(identifier: str) -> Finding:
    return Finding(
        kind=FindingKind.ASSET_NOT_REGISTERED,
        severity=Severity.CRITICAL,
        subject=identifier,
        summary=f"{identifier} is not in the IP asset registry, so its rights cannot be checked.",
        evidence={"identifier": identifier},
    )


def _lapse(asset: IpAsset, today: date) -> list[Finding]:
    evidence = {"status": asset.status, "expires_on": _iso(asset.expires_on)}
    if asset.status in _LAPSED:
        return [
            Finding(
                kind=FindingKind.ASSET_LAPSED,
                severity=Severity.CRITICAL,
                subject=asset.identifier,
                summary=f"{asset.identifier} is {asset.status}: there is no right left to grant.",
                evidence=evidence,
            )
        ]
    if asset.status == "granted" and asset.expires_on is not None and asset.expires_on < today:
        return [
            Finding(
                kind=FindingKind.ASSET_LAPSED,
                severity=Severity.WARNING,
                subject=asset.identifier,
                summary=(
                    f"{asset.identifier} is recorded as granted but expired on "
                    f"{asset.expires_on.isoformat()}; confirm its status before licensing it."
                ),
                evidence=evidence | {"checked_on": today.isoformat()},
            )
        ]
    return []


def _assignments(asset: IpAsset) -> list[Finding]:
    inventors = asset.inventors or []
    if not inventors:
        if asset.asset_type not in _NEEDS_INVENTORS:
            return []
        return [
            Finding(
                kind=FindingKind.ASSIGNMENT_MISSING,
                severity=Severity.WARNING,
                subject=asset.identifier,
                summary=(
                    f"{asset.identifier} names no inventors, so the owner's title through "
                    "their assignments cannot be confirmed."
                ),
                evidence={"asset_type": asset.asset_type, "inventors": []},
            )
        ]
    missing = [str(inventor.get("name", "")) for inventor in inventors if not _recorded(inventor)]
    if not missing:
        return []
    return [
        Finding(
            kind=FindingKind.ASSIGNMENT_MISSING,
            severity=Severity.WARNING,
            subject=asset.identifier,
            summary=(
                f"No assignment to {asset.owner} is recorded for {_names(missing)}, "
                f"inventor{'s' if len(missing) > 1 else ''} of {asset.identifier}."
            ),
            evidence={"inventors": missing, "owner": asset.owner},
        )
    ]


def _recorded(inventor: dict[str, Any]) -> bool:
    return inventor.get("assignment_recorded") is True


def _conflicts(asset: IpAsset, terms: Terms, agreement_id: str, today: date) -> list[Finding]:
    findings = []
    for license_ in asset.licenses:
        if not _in_force(license_, today) or license_.agreement_id == agreement_id:
            continue
        if not (license_.exclusive or terms.exclusive):
            continue
        if not fields_overlap(license_.field_of_use, terms.field_of_use):
            continue
        shared = overlapping_territories(license_.territories, terms.territories)
        if not shared:
            continue
        findings.append(_conflict(asset, license_, terms, shared))
    return findings


def _in_force(license_: IpLicense, today: date) -> bool:
    return license_.active and (license_.ends_on is None or license_.ends_on > today)


def _conflict(asset: IpAsset, license_: IpLicense, terms: Terms, shared: list[str]) -> Finding:
    where = _territory_words(shared)
    field = f" in {license_.field_of_use}" if license_.field_of_use else ""
    if license_.exclusive:
        summary = (
            f"{asset.identifier} is already licensed exclusively to {license_.licensee}"
            f"{field} in {where}, which this agreement overlaps."
        )
    else:
        summary = (
            f"The proposed exclusive license of {asset.identifier} overlaps "
            f"{license_.licensee}'s existing nonexclusive license{field} in {where}."
        )
    return Finding(
        kind=FindingKind.LICENSE_CONFLICT,
        severity=Severity.CRITICAL,
        subject=asset.identifier,
        summary=summary,
        evidence={
            "license_id": license_.id,
            "licensee": license_.licensee,
            "exclusive": license_.exclusive,
            "field_of_use": license_.field_of_use,
            "territories": list(license_.territories or []),
            "starts_on": _iso(license_.starts_on),
            "ends_on": _iso(license_.ends_on),
            "agreement_id": license_.agreement_id,
            "overlapping_territories": shared,
            "proposed_exclusive": terms.exclusive,
            "proposed_field_of_use": terms.field_of_use,
        },
    )


def _funding(asset: IpAsset, terms: Terms) -> list[Finding]:
    findings = []
    government = []
    for funding in asset.funding or []:
        award = {"agency": funding.get("agency"), "award_number": funding.get("award_number")}
        source = funding.get("source")
        if source == "government":
            government.append(award)
            findings.append(
                Finding(
                    kind=FindingKind.GOVERNMENT_RIGHTS,
                    severity=Severity.WARNING,
                    subject=asset.identifier,
                    summary=(
                        f"{asset.identifier} was made with government funding "
                        f"({_award_words(award)}): under Bayh-Dole, 35 U.S.C. 202(c)(4), the "
                        "government keeps a nonexclusive, royalty-free license to practice it."
                    ),
                    evidence=award,
                )
            )
        elif source == "sponsor":
            findings.append(
                Finding(
                    kind=FindingKind.SPONSOR_RIGHTS,
                    severity=Severity.INFO,
                    subject=asset.identifier,
                    summary=(
                        f"{asset.identifier} was sponsored ({_award_words(award)}); the "
                        "sponsor agreement may reserve rights, such as an option or a license."
                    ),
                    evidence=award,
                )
            )
    if government and terms.exclusive and _reaches_us(terms.territories):
        findings.append(
            Finding(
                kind=FindingKind.US_MANUFACTURE,
                severity=Severity.WARNING,
                subject=asset.identifier,
                summary=(
                    f"This exclusive license of government-funded {asset.identifier} covers "
                    "the US: under 35 U.S.C. 204, products sold in the US must be manufactured "
                    "substantially in the US unless the agency waives it."
                ),
                evidence={
                    "awards": government,
                    "territories": list(terms.territories) or [WORLDWIDE],
                },
            )
        )
    return findings


def _reaches_us(territories: list[str]) -> bool:
    return not territories or "US" in territories or WORLDWIDE in territories


# --- overlap --------------------------------------------------------------------------


def _normalised(field_of_use: str | None) -> str:
    return " ".join((field_of_use or "").split()).casefold()


def fields_overlap(first: str | None, second: str | None) -> bool:
    """Null or blank is every field; otherwise equal, or one contains the other."""
    a, b = _normalised(first), _normalised(second)
    return not a or not b or a in b or b in a


def overlapping_territories(licensed: list[str] | None, proposed: list[str] | None) -> list[str]:
    """Where both apply, sorted: WW (or nothing given) is everywhere."""
    a, b = set(licensed or [WORLDWIDE]), set(proposed or [WORLDWIDE])
    if WORLDWIDE in a:
        return sorted(b)
    if WORLDWIDE in b:
        return sorted(a)
    return sorted(a & b)


# --- wording --------------------------------------------------------------------------


def _names(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _territory_words(territories: list[str]) -> str:
    return "every territory" if territories == [WORLDWIDE] else ", ".join(territories)


def _award_words(award: dict[str, Any]) -> str:
    agency = award.get("agency") or "unnamed source"
    number = award.get("award_number")
    return f"{agency} award {number}" if number else str(agency)
