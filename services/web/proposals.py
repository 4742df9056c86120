"""The proposal form: submit a new proposal, or revise one returned for changes.

The form's field names are the API's field paths, so the API's own validation is shown
beside each field and nothing typed is lost on an error.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements import endpoints as agreements_api
from services.api.agreements.schemas import AgreementDetail
from services.api.deps import get_session
from services.store import Role, User
from services.web.agreements import Action, _action
from services.web.auth import Viewer, recover, require_role, viewer
from services.web.forms import (
    lines,
    nested,
    rows,
    section,
    shown_rows,
    shown_text,
    words,
)
from services.web.rendering import REFUSALS, FormErrors, page, redirect
from workflows.core.proposal import (
    AgreementKind,
    ExportJurisdiction,
    PartyRole,
    Proposal,
    ProposalRevision,
)

router = APIRouter(include_in_schema=False)

# Which parts of the form each kind of agreement uses (the rest are hidden by the page's
# script, and left out when posted).
LICENSING_KINDS = (
    AgreementKind.LICENSE,
    AgreementKind.OPTION,
    AgreementKind.TECHNOLOGY_TRANSFER,
)
EXPORT_KINDS = (
    AgreementKind.DEFENSE_SHARING,
    AgreementKind.TECHNOLOGY_TRANSFER,
    AgreementKind.MATERIAL_TRANSFER,
)
# The roles the parties of each kind usually take, first party first.
PARTY_ROLES: dict[str, tuple[PartyRole, PartyRole]] = {
    AgreementKind.LICENSE: (PartyRole.LICENSOR, PartyRole.LICENSEE),
    AgreementKind.OPTION: (PartyRole.LICENSOR, PartyRole.LICENSEE),
    AgreementKind.TECHNOLOGY_TRANSFER: (PartyRole.PROVIDER, PartyRole.RECIPIENT),
    AgreementKind.EXCHANGE_PROGRAM: (PartyRole.PARTNER, PartyRole.PARTNER),
    AgreementKind.RESEARCH_COLLABORATION: (PartyRole.COLLABORATOR, PartyRole.COLLABORATOR),
    AgreementKind.MATERIAL_TRANSFER: (PartyRole.PROVIDER, PartyRole.RECIPIENT),
    AgreementKind.DEFENSE_SHARING: (PartyRole.PROVIDER, PartyRole.RECIPIENT),
}
# The fields a revision may change, in the form's order.
REVISABLE = tuple(name for name in ProposalRevision.model_fields if name != "comment")


def proposal_body(form: dict[str, Any], kind: str | None) -> dict[str, Any]:
    """The posted form as the API's proposal JSON."""
    body = dict(form)
    body.pop("idempotency_key", None)
    body.pop("asset_q", None)
    body.pop("comment", None)
    if kind is not None:
        body["kind"] = kind
    # A row is blank until its person or party is named: the form prefills a blank row's
    # role and signing order, which alone say nothing.
    body["parties"] = _named(form.get("parties"), "name", "country")
    body["signatories"] = _named(form.get("signatories"), "email", "on_behalf_of")
    extra = lines(body.pop("ip_assets_extra", ""))
    picked = form.get("ip_assets", [])
    if isinstance(extra, list) and isinstance(picked, list):
        body["ip_assets"] = list(dict.fromkeys([*picked, *extra]))
    terms = section(form.get("terms"))
    terms["exclusive"] = terms.get("exclusive") == "on"
    terms["territories"] = words(terms.get("territories"))
    terms["milestones"] = rows(terms.get("milestones"))
    body["terms"] = terms
    if body.get("kind") not in LICENSING_KINDS:
        for licensing_only in ("exclusive", "field_of_use", "royalty_rate"):
            terms.pop(licensing_only, None)
    export = section(form.get("export_control"))
    body["export_control"] = export if export.get("classification") else None
    return body


def _named(value: Any, *naming: str) -> Any:
    """The rows of a repeated group that name something (see `proposal_body`)."""
    if not isinstance(value, list):
        return rows(value)
    return [r for r in value if not isinstance(r, dict) or any(r.get(k) for k in naming)]


async def _form_context(session: AsyncSession) -> dict[str, Any]:
    signers = (
        await session.execute(
            select(User.name, User.email)
            .where(User.active, User.role.in_((Role.SIGNATORY, Role.ADMIN)))
            .order_by(User.name)
        )
    ).all()
    return {
        "kinds": list(AgreementKind),
        "roles": list(PartyRole),
        "jurisdictions": list(ExportJurisdiction),
        "licensing_kinds": [str(k) for k in LICENSING_KINDS],
        "export_kinds": [str(k) for k in EXPORT_KINDS],
        "party_roles": {str(k): [str(r) for r in v] for k, v in PARTY_ROLES.items()},
        "signers": signers,
    }


def _may_submit(who: Viewer) -> None:
    require_role(who, Role.PROGRAM_OFFICER, Role.ADMIN)


@router.get("/agreements/new")
async def new_proposal(
    request: Request,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    _may_submit(who)
    values = {
        "kind": AgreementKind.LICENSE,
        "currency": "USD",
        "parties": [],
        "signatories": [],
        "terms": {"territories": [], "milestones": []},
        "ip_assets": [],
    }
    return page(
        request,
        "proposal_form.html",
        who,
        mode="new",
        values=values,
        errors=FormErrors(),
        idempotency_key=str(uuid.uuid4()),
        **await _form_context(session),
    )


@router.post("/agreements/new")
async def submit_proposal(action: Action = Depends(_action)) -> Response:
    form = nested(await action.request.form(), lists=frozenset({"ip_assets"}))
    body = proposal_body(form, None)
    key = str(form.get("idempotency_key") or uuid.uuid4())[:200]
    try:
        _may_submit(action.who)
        proposal = Proposal.model_validate(body)
        detail = await agreements_api.submit_proposal(
            proposal=proposal,
            response=Response(),
            idempotency_key=key,
            user=action.who.user,
            session=action.session,
            settings=action.settings,
            commands=action.commands,
        )
    except REFUSALS as err:
        await recover(action.session, action.who)
        return page(
            action.request,
            "proposal_form.html",
            action.who,
            status_code=FormErrors.of(err).status_code,
            mode="new",
            values=_redisplay(body),
            errors=FormErrors.of(err),
            idempotency_key=key,
            **await _form_context(action.session),
        )
    return redirect(f"/agreements/{detail.id}?done=submitted")


def _redisplay(body: dict[str, Any]) -> dict[str, Any]:
    """What was posted, shaped as the form shows it again, whatever its shape."""
    values: dict[str, Any] = {name: shown_text(body.get(name)) for name in _TEXT_FIELDS}
    terms = section(body.get("terms"))
    territories = terms.get("territories")
    terms["territories"] = territories if isinstance(territories, list) else []
    terms["milestones"] = shown_rows(terms.get("milestones"))
    picked = body.get("ip_assets")
    values.update(
        parties=shown_rows(body.get("parties")),
        signatories=shown_rows(body.get("signatories")),
        terms=terms,
        export_control=section(body.get("export_control")) or None,
        ip_assets=[a for a in picked if isinstance(a, str)] if isinstance(picked, list) else [],
    )
    return values


_TEXT_FIELDS = ("title", "kind", "summary", "estimated_value", "currency")


def current_values(detail: AgreementDetail) -> dict[str, Any]:
    """An agreement's proposal as the form shows it."""
    return {
        "title": detail.title,
        "kind": detail.kind,
        "summary": detail.summary,
        "parties": [p.model_dump(mode="json") for p in detail.parties],
        "ip_assets": list(detail.ip_assets),
        "terms": dict(detail.terms),
        "estimated_value": str(detail.estimated_value),
        "currency": detail.currency,
        "signatories": [s.model_dump(mode="json") for s in detail.signatories],
        "export_control": (
            detail.export_control.model_dump(mode="json") if detail.export_control else None
        ),
    }


@router.get("/agreements/{agreement_id}/revise")
async def revise_form(
    request: Request,
    agreement_id: UUID,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    # The checks the revision itself will meet: the owner or an admin, changes requested.
    agreements_api.ensure_revisable(
        await agreements_api.changeable(session, who.user, agreement_id)
    )
    detail = await agreements_api.get_agreement(
        agreement_id=agreement_id, user=who.user, session=session
    )
    return page(
        request,
        "proposal_form.html",
        who,
        mode="revise",
        agreement=detail,
        values=current_values(detail),
        errors=FormErrors(),
        idempotency_key="",
        **await _form_context(session),
    )


@router.post("/agreements/{agreement_id}/revise")
async def revise(agreement_id: UUID, action: Action = Depends(_action)) -> Response:
    detail = await agreements_api.get_agreement(
        agreement_id=agreement_id, user=action.who.user, session=action.session
    )
    form = nested(await action.request.form(), lists=frozenset({"ip_assets"}))
    body = proposal_body(form, detail.kind)
    try:
        revised = Proposal.model_validate(body)
        before = Proposal.model_validate(current_values(detail))
        changes = {
            name: getattr(revised, name)
            for name in REVISABLE
            if getattr(revised, name) != getattr(before, name)
        }
        revision = ProposalRevision.model_validate({**changes, "comment": form.get("comment", "")})
        await agreements_api.revise_agreement(
            agreement_id=agreement_id,
            revision=revision,
            user=action.who.user,
            session=action.session,
            commands=action.commands,
        )
    except REFUSALS as err:
        await recover(action.session, action.who)
        errors = FormErrors.of(err)
        return page(
            action.request,
            "proposal_form.html",
            action.who,
            status_code=errors.status_code,
            mode="revise",
            agreement=detail,
            values={**_redisplay(body), "comment": shown_text(form.get("comment"))},
            errors=errors,
            idempotency_key="",
            **await _form_context(action.session),
        )
    return redirect(f"/agreements/{agreement_id}?done=revised")
