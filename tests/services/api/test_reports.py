"""Status reports: one agreement's, and the portfolio's, on rows seeded with chosen times.

Other tests write agreements into the same database, so portfolio figures are checked on
a filtered view (`agreement_ids`, `officer_id`) or on months no other test touches.
"""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.api.auth import hash_token, new_token
from services.api.reports.endpoints import negotiate
from services.reports.figures import percentile, stage_days
from services.reports.models import (
    Licensing,
    MonthFigures,
    OverdueAssignee,
    PortfolioReport,
    StageStats,
)
from services.reports.queries import build_portfolio
from services.reports.renderers import portfolio_csv, portfolio_html, portfolio_text
from services.store import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    Finding,
    Group,
    Obligation,
    Role,
    Signature,
    Task,
    User,
)
from services.store.session import create_session_factory
from tests.stack import Stack

DAY = timedelta(days=1)


# --- seeding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    type: str
    to_status: str
    at: datetime
    actor_id: str | None = None


@pytest.fixture(scope="module")
async def sessions(engine: AsyncEngine, tokens: dict[str, str]) -> async_sessionmaker[AsyncSession]:
    """Sessions on the shared test database, with the demo users in it."""
    return create_session_factory(engine)


async def user_id(session: AsyncSession, email: str) -> str:
    found = await session.scalar(select(User.id).where(User.email == email))
    assert found is not None, email
    return found


async def group_id(session: AsyncSession, slug: str) -> str:
    found = await session.scalar(select(Group.id).where(Group.slug == slug))
    assert found is not None, slug
    return found


async def new_officer(sessions: async_sessionmaker[AsyncSession]) -> tuple[str, str]:
    """A program officer of this test's own: (id, bearer token)."""
    token = new_token()
    async with sessions() as session:
        officer = User(
            email=f"otto.{uuid.uuid4().hex[:10]}@accord.test",
            name="Otto Other",
            role=Role.PROGRAM_OFFICER,
            token_hash=hash_token(token),
        )
        session.add(officer)
        await session.commit()
        return officer.id, token


def add_agreement(
    session: AsyncSession,
    officer_id: str,
    steps: Sequence[Step],
    *,
    kind: str = "license",
    exclusive: bool = False,
    currency: str = "USD",
    countries: Sequence[str] = ("US",),
    title: str | None = None,
) -> str:
    """An agreement whose status history is `steps`, in order; returns its id."""
    agreement_id = str(uuid.uuid4())
    changed_at = steps[0].at
    for before, after in itertools.pairwise(steps):
        if after.to_status != before.to_status:
            changed_at = after.at
    activated = next((s.at for s in steps if s.type == "activated"), None)
    session.add(
        Agreement(
            id=agreement_id,
            workflow_id=f"agreement-{agreement_id}",
            title=title or f"Report test {agreement_id[:8]}",
            kind=kind,
            summary="",
            status=steps[-1].to_status,
            officer_id=officer_id,
            ip_assets=[],
            terms={"exclusive": exclusive, "term_months": 24},
            estimated_value=Decimal("1000.00"),
            currency=currency,
            revision=0,
            last_seq=len(steps),
            conditions=[],
            effective_at=activated,
            ends_at=activated + 730 * DAY if activated else None,
            created_at=steps[0].at,
            updated_at=steps[-1].at,
            status_changed_at=changed_at,
        )
    )
    for position, country in enumerate(countries):
        session.add(
            AgreementParty(
                agreement_id=agreement_id,
                position=position,
                name=f"Party {position}",
                country=country,
                role="partner",
            )
        )
    previous: str | None = None
    for seq, step in enumerate(steps, start=1):
        session.add(
            AgreementEvent(
                agreement_id=agreement_id,
                seq=seq,
                key=f"report-test-{agreement_id}/{seq}",
                type=step.type,
                actor_id=step.actor_id,
                from_status=previous,
                to_status=step.to_status,
                data={},
                created_at=step.at,
            )
        )
        previous = step.to_status
    return agreement_id


def add_task(
    session: AsyncSession,
    agreement_id: str,
    *,
    kind: str,
    status: str,
    due_at: datetime,
    user_id: str | None = None,
    group_id: str | None = None,
) -> str:
    task_id = str(uuid.uuid4())
    session.add(
        Task(
            id=task_id,
            agreement_id=agreement_id,
            kind=kind,
            step_key=kind,
            step_name=f"{kind} step",
            round=0,
            assignee_user_id=user_id,
            assignee_group_id=group_id,
            approvals_required=1,
            status=status,
            due_at=due_at,
            created_at=due_at - 5 * DAY,
        )
    )
    return task_id


def add_obligation(
    session: AsyncSession,
    agreement_id: str,
    *,
    due_at: datetime,
    status: str,
    kind: str = "report",
    name: str = "Annual report",
    overdue: bool = False,
    met_at: datetime | None = None,
    income: str | None = None,
    units: int | None = None,
    sublicenses: int | None = None,
) -> None:
    session.add(
        Obligation(
            id=str(uuid.uuid4()),
            agreement_id=agreement_id,
            kind=kind,
            name=name,
            due_at=due_at,
            opens_at=due_at - 30 * DAY,
            status=status,
            overdue=overdue,
            met_at=met_at,
            income=Decimal(income) if income is not None else None,
            units=units,
            sublicenses=sublicenses,
            attachments=[],
        )
    )


def lifecycle(start: datetime, *offsets: tuple[str, str, float]) -> list[Step]:
    """Submitted at `start`, then (type, to_status, days after start) for each change."""
    return [Step("submitted", "in_review", start)] + [
        Step(type_, status, start + days * DAY) for type_, status, days in offsets
    ]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- pure helpers ----------------------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert percentile([float(n) for n in range(1, 11)], 90) == pytest.approx(9.1)
    assert percentile([1.0, 1.0, 21.0], 90) == pytest.approx(17.0)
    assert percentile([5.0, 1.0], 0) == 1.0
    assert percentile([5.0, 1.0], 100) == 5.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_stage_days_sums_revisits_and_counts_the_current_stage_to_now() -> None:
    t = datetime(2020, 5, 1, tzinfo=UTC)
    changes = [
        ("in_review", t),
        ("in_review", t + DAY),  # a vote: same status
        ("changes_requested", t + 1.5 * DAY),  # same stage
        ("ip_clearance", t + 2 * DAY),
        ("in_review", t + 3 * DAY),  # back to review
        ("in_signature", t + 4 * DAY),
    ]
    assert stage_days(changes, t + 4.5 * DAY) == {
        "review": 3.0,
        "ip_clearance": 1.0,
        "signature": 0.5,
    }
    # Closed time is not counted; stages come in lifecycle order.
    closed = [("in_review", t), ("active", t + DAY), ("terminated", t + 3 * DAY)]
    assert list(stage_days(closed, t + 100 * DAY).items()) == [("review", 1.0), ("active", 2.0)]
    assert stage_days([], t) == {}


def test_negotiate_prefers_the_format_parameter_then_accept() -> None:
    assert negotiate(None, None) == "json"
    assert negotiate(None, "text/csv") == "csv"
    assert negotiate(None, "text/html,application/xhtml+xml,*/*;q=0.8") == "html"
    assert negotiate(None, "text/html;q=0.5, text/csv") == "csv"
    assert negotiate(None, "text/csv;q=0") == "json"
    assert negotiate(None, "*/*") == "json"
    assert negotiate("json", "text/html") == "json"
    assert negotiate("csv", None) == "csv"


# --- the portfolio's figures -----------------------------------------------------------


@pytest.fixture(scope="module")
async def portfolio_seed(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """Five agreements of 2011 with known histories, tasks and obligations."""
    t = datetime(2011, 1, 10, 9, tzinfo=UTC)
    async with sessions() as session:
        officer = await user_id(session, "olivia.officer@accord.test")
        technical = await group_id(session, "technical-review")
        a = add_agreement(  # review 3, clearance 2, signature 1, active since 2011-01-16
            session,
            officer,
            lifecycle(
                t,
                ("review_completed", "ip_clearance", 3),
                ("cleared", "in_signature", 5),
                ("activated", "active", 6),
            ),
            kind="license",
            exclusive=True,
            countries=("US", "DE", "US"),
        )
        b = add_agreement(  # review 1, clearance 3, signature 21, active since 2011-02-04
            session,
            officer,
            lifecycle(
                t,
                ("review_completed", "ip_clearance", 1),
                ("cleared", "in_signature", 4),
                ("activated", "active", 25),
            ),
            kind="option",
            exclusive=False,
            currency="EUR",
            countries=("US", "JP"),
        )
        c = add_agreement(session, officer, lifecycle(t), countries=("FR",))  # in review
        d = add_agreement(  # review 4, then rejected
            session,
            officer,
            lifecycle(t, ("rejected", "rejected", 4)),
            kind="research_collaboration",
            countries=("DE",),
        )
        e = add_agreement(  # review 2, clearance 1, signature 1, active 6, terminated
            session,
            officer,
            lifecycle(
                t,
                ("review_completed", "ip_clearance", 2),
                ("cleared", "in_signature", 3),
                ("activated", "active", 4),
                ("terminated", "terminated", 10),
            ),
            kind="license",
            exclusive=True,
        )
        await session.flush()
        add_obligation(
            session,
            a,
            due_at=t + 25 * DAY,
            status="met",
            met_at=at("2011-02-01T10:00Z"),
            income="1200.50",
        )
        add_obligation(session, a, due_at=t + 40 * DAY, status="open", overdue=True)
        add_obligation(
            session,
            b,
            due_at=t + 60 * DAY,
            status="met",
            met_at=at("2011-03-05T10:00Z"),
            income="300",
        )
        add_obligation(
            session,
            e,
            due_at=t + 21 * DAY,
            status="met",
            met_at=at("2011-01-30T10:00Z"),
            income="99.50",
        )
        add_task(session, a, kind="report", status="open", due_at=t + 40 * DAY, user_id=officer)
        add_task(session, c, kind="review", status="open", due_at=t + 2 * DAY, group_id=technical)
        add_task(session, c, kind="review", status="open", due_at=t + 1 * DAY, group_id=technical)
        add_task(session, c, kind="review", status="done", due_at=t, group_id=technical)
        await session.commit()
    return {"ids": [a, b, c, d, e], "t": t}


async def test_portfolio_counts_durations_and_licensing(
    sessions: async_sessionmaker[AsyncSession], portfolio_seed: dict[str, Any]
) -> None:
    now = datetime(2011, 6, 1, tzinfo=UTC)
    async with sessions() as session:
        report = await build_portfolio(session, now, agreement_ids=portfolio_seed["ids"])

    assert report.generated_at == now
    assert report.scope == "5 selected agreements"
    assert report.agreements == 5
    assert {k: v for k, v in report.by_status.items() if v} == {
        "in_review": 1,
        "active": 2,
        "rejected": 1,
        "terminated": 1,
    }
    assert list(report.by_status)[:3] == ["in_review", "changes_requested", "ip_clearance"]
    assert {k: v for k, v in report.by_kind.items() if v} == {
        "license": 3,
        "option": 1,
        "research_collaboration": 1,
    }
    # A has two US parties and counts once for the US; most common country first.
    assert list(report.by_country.items()) == [("US", 3), ("DE", 2), ("FR", 1), ("JP", 1)]

    stages = {s.stage: s for s in report.stages}
    assert list(stages) == ["review", "ip_clearance", "signature", "active"]
    # review: A 3, B 1, D 4, E 2 (C is still in it)
    assert stages["review"] == StageStats(
        stage="review", finished=4, median_days=2.5, p90_days=3.7, current=1
    )
    assert stages["ip_clearance"] == StageStats(
        stage="ip_clearance", finished=3, median_days=2.0, p90_days=2.8, current=0
    )
    assert stages["signature"] == StageStats(
        stage="signature", finished=3, median_days=1.0, p90_days=17.0, current=0
    )
    assert stages["active"] == StageStats(
        stage="active", finished=1, median_days=6.0, p90_days=6.0, current=2
    )

    assert [(o.type, o.name, o.count, o.oldest_due_at) for o in report.overdue_tasks] == [
        ("group", "Technical review board", 2, portfolio_seed["t"] + DAY),
        ("user", "Olivia Officer", 1, portfolio_seed["t"] + 40 * DAY),
    ]
    assert report.monthly == [
        MonthFigures(month="2011-01", executed=2, obligations_met=1),
        MonthFigures(month="2011-02", executed=1, obligations_met=1),
        MonthFigures(month="2011-03", executed=0, obligations_met=1),
    ]
    assert report.licensing == Licensing(
        licenses_executed=2,
        options_executed=1,
        exclusive=2,
        non_exclusive=1,
        active_licenses=1,
        income_total=Decimal("1600.00"),
        income_by_currency={"EUR": Decimal("300.00"), "USD": Decimal("1300.00")},
    )


async def test_portfolio_tasks_are_overdue_only_after_their_due_date(
    sessions: async_sessionmaker[AsyncSession], portfolio_seed: dict[str, Any]
) -> None:
    between = portfolio_seed["t"] + 1.5 * DAY  # one review task late, the report not yet
    async with sessions() as session:
        report = await build_portfolio(session, between, agreement_ids=portfolio_seed["ids"])
    assert [(o.name, o.count) for o in report.overdue_tasks] == [("Technical review board", 1)]


async def test_portfolio_of_one_officer(sessions: async_sessionmaker[AsyncSession]) -> None:
    officer_id, _ = await new_officer(sessions)
    t = datetime(2011, 8, 1, tzinfo=UTC)
    async with sessions() as session:
        add_agreement(
            session,
            officer_id,
            lifecycle(t, ("review_completed", "ip_clearance", 2)),
            kind="option",
            countries=("CH", "CH"),
        )
        await session.commit()
        report = await build_portfolio(session, t + 10 * DAY, officer_id=officer_id)
    assert report.scope == f"officer {officer_id}"
    assert report.agreements == 1
    assert report.by_status["ip_clearance"] == 1
    assert report.by_country == {"CH": 1}
    review = next(s for s in report.stages if s.stage == "review")
    assert (review.finished, review.median_days) == (1, 2.0)
    assert report.monthly == []
    assert report.licensing.options_executed == 0
    assert report.licensing.income_total == Decimal("0.00")


async def test_an_empty_selection_gives_an_empty_report(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        report = await build_portfolio(session, datetime.now(UTC), agreement_ids=[])
    assert report.agreements == 0
    assert all(s.median_days is None and s.finished == 0 for s in report.stages)
    # Every rendering copes with nothing to show.
    assert "No data" in portfolio_html(report)
    assert "(none)" in portfolio_text(report)
    rows = list(csv.DictReader(io.StringIO(portfolio_csv(report))))
    assert {"section": "stage", "key": "review", "metric": "median_days", "value": ""} in rows


# --- renderings ------------------------------------------------------------------------


def sample_report() -> PortfolioReport:
    return PortfolioReport(
        generated_at=datetime(2024, 3, 9, 14, 30, tzinfo=UTC),
        scope="all",
        agreements=3,
        by_status={"in_review": 1, "active": 2},
        by_kind={"license": 3},
        by_country={"DE": 2, "US": 1},
        stages=[
            StageStats(stage="review", finished=4, median_days=2.5, p90_days=3.7, current=1),
            StageStats(stage="active", finished=0, median_days=None, p90_days=None, current=2),
        ],
        overdue_tasks=[
            OverdueAssignee(
                type="group",
                id="g1",
                name="<b>Legal & Co</b>",
                count=2,
                oldest_due_at=datetime(2024, 2, 1, tzinfo=UTC),
            ),
            OverdueAssignee(
                type="user",
                id="u1",
                name="=HYPERLINK(1)",
                count=1,
                oldest_due_at=datetime(2024, 2, 5, tzinfo=UTC),
            ),
        ],
        monthly=[MonthFigures(month="2024-02", executed=2, obligations_met=1)],
        licensing=Licensing(
            licenses_executed=2,
            options_executed=0,
            exclusive=1,
            non_exclusive=1,
            active_licenses=2,
            income_total=Decimal("10.50"),
            income_by_currency={"USD": Decimal("10.50")},
        ),
    )


def test_csv_is_one_flat_table_and_never_a_formula() -> None:
    rows = list(csv.reader(io.StringIO(portfolio_csv(sample_report()))))
    assert rows[0] == ["section", "key", "metric", "value"]
    assert all(len(row) == 4 for row in rows)
    assert ["status", "active", "agreements", "2"] in rows
    assert ["stage", "review", "p90_days", "3.70"] in rows
    assert ["stage", "active", "median_days", ""] in rows
    assert ["monthly", "2024-02", "executed", "2"] in rows
    assert ["licensing", "all", "income_total", "10.50"] in rows
    assert ["income", "USD", "reported_income", "10.50"] in rows
    assert ["overdue_tasks", "<b>Legal & Co</b>", "count", "2"] in rows
    assert ["overdue_tasks", "'=HYPERLINK(1)", "count", "1"] in rows


def test_html_is_standalone_with_svg_charts_and_escaped_text() -> None:
    page = portfolio_html(sample_report())
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 3  # by status, median days per stage, executed per month
    assert "&lt;b&gt;Legal &amp; Co&lt;/b&gt;" in page
    assert "<b>" not in page
    assert "<script" not in page.lower()
    assert "src=" not in page and "href=" not in page and "<link" not in page


def test_text_tables_are_aligned() -> None:
    text = portfolio_text(sample_report())
    lines = text.splitlines()
    assert lines[0] == "Accord portfolio report"
    assert "Generated 2024-03-09 14:30 UTC" in text
    start = lines.index("Days per stage (agreements that left the stage)")
    header, rule, review, active = lines[start + 1 : start + 5]
    assert header.split() == ["Stage", "Median", "P90", "Finished", "Now"]
    assert review.split() == ["review", "2.50", "3.70", "4", "1"]
    assert active.split() == ["active", "n/a", "n/a", "0", "2"]
    # Right-aligned numbers end in the same column as their header.
    assert len(header) == len(rule) == len(review) == len(active)


# --- over HTTP -------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def reported(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    """An active license with a full history, 30 days after its submission."""
    t = datetime.now(UTC).replace(microsecond=0) - 30 * DAY
    async with sessions() as session:
        officer = await user_id(session, "olivia.officer@accord.test")
        reviewer = await user_id(session, "rita.reviewer@accord.test")
        counsel = await user_id(session, "iris.counsel@accord.test")
        sid = await user_id(session, "sid.signatory@accord.test")
        sofia = await user_id(session, "sofia.signatory@accord.test")
        counsel_group = await group_id(session, "ip-counsel")
        agreement_id = add_agreement(
            session,
            officer,
            [
                Step("submitted", "in_review", t, officer),
                Step("review_vote", "in_review", t + 0.5 * DAY, reviewer),
                Step("changes_requested", "changes_requested", t + DAY, reviewer),
                Step("revised", "in_review", t + 2 * DAY, officer),
                Step("review_completed", "ip_clearance", t + 3 * DAY),
                Step("cleared", "in_signature", t + 5 * DAY, counsel),
                Step("activated", "active", t + 6 * DAY),
            ],
            exclusive=True,
            countries=("US", "DE"),
            title="Perovskite report license",
        )
        await session.flush()
        add_task(session, agreement_id, kind="review", status="done", due_at=t + DAY)
        late = add_task(
            session,
            agreement_id,
            kind="report",
            status="open",
            due_at=t + 20 * DAY,
            user_id=officer,
        )
        upcoming = add_task(
            session,
            agreement_id,
            kind="report",
            status="open",
            due_at=t + 60 * DAY,
            group_id=counsel_group,
        )
        signing = [
            add_task(session, agreement_id, kind="signature", status="done", due_at=t + 9 * DAY)
            for _ in range(2)
        ]
        await session.flush()
        for order, (task_id, signer, party, hours) in enumerate(
            [(signing[0], sid, "State University", 2), (signing[1], sofia, "Helio GmbH", 20)],
            start=1,
        ):
            session.add(
                Signature(
                    agreement_id=agreement_id,
                    task_id=task_id,
                    user_id=signer,
                    on_behalf_of=party,
                    order=order,
                    document_sha256="0" * 64,
                    signed_at=t + 5 * DAY + timedelta(hours=hours),
                )
            )
        for index, (kind, severity, status) in enumerate(
            [("license_conflict", "warning", "open"), ("screening_hit", "critical", "dismissed")]
        ):
            session.add(
                Finding(
                    id=str(uuid.uuid4()),
                    agreement_id=agreement_id,
                    round=0,
                    kind=kind,
                    severity=severity,
                    subject=f"subject {index}",
                    summary=f"summary {index}",
                    evidence={},
                    status=status,
                    created_at=t + 3 * DAY + index * timedelta(minutes=1),
                )
            )
        add_obligation(
            session,
            agreement_id,
            due_at=t + 15 * DAY,
            status="met",
            met_at=t + 14 * DAY,
            income="1200.50",
            units=10,
            sublicenses=1,
        )
        add_obligation(
            session,
            agreement_id,
            kind="milestone",
            name="First sale",
            due_at=t + 20 * DAY,
            status="open",
            overdue=True,
        )
        # Executed in March 2012, which no other test touches: exact over all agreements.
        old = datetime(2012, 3, 1, 12, tzinfo=UTC)
        add_agreement(
            session,
            officer,
            lifecycle(
                old,
                ("review_completed", "ip_clearance", 1),
                ("cleared", "in_signature", 2),
                ("activated", "active", 3),
            ),
        )
        await session.commit()
    return {"id": agreement_id, "t": t, "late": late, "upcoming": upcoming}


async def test_status_report_of_an_agreement(stack: Stack, reported: dict[str, Any]) -> None:
    t = reported["t"]
    response = await stack.actor("admin").get(f"/v1/agreements/{reported['id']}/status-report")
    assert response.status_code == 200, response.text
    body = response.json()
    generated = at(body["generated_at"])
    assert abs(generated - datetime.now(UTC)) < timedelta(minutes=1)

    assert (body["id"], body["title"], body["kind"], body["status"], body["stage"]) == (
        reported["id"],
        "Perovskite report license",
        "license",
        "active",
        "active",
    )
    assert body["officer"]["name"] == "Olivia Officer"
    assert at(body["effective_at"]) == t + 6 * DAY
    assert at(body["ends_at"]) == t + 736 * DAY

    timeline = body["timeline"]
    assert [
        (e["seq"], e["type"], e["actor"], e["from_status"], e["to_status"]) for e in timeline
    ] == [
        (1, "submitted", "Olivia Officer", None, "in_review"),
        (2, "review_vote", "Rita Reviewer", "in_review", "in_review"),
        (3, "changes_requested", "Rita Reviewer", "in_review", "changes_requested"),
        (4, "revised", "Olivia Officer", "changes_requested", "in_review"),
        (5, "review_completed", None, "in_review", "ip_clearance"),
        (6, "cleared", "Iris Counsel", "ip_clearance", "in_signature"),
        (7, "activated", None, "in_signature", "active"),
    ]
    assert at(timeline[5]["at"]) == t + 5 * DAY

    days = {s["stage"]: (s["days"], s["current"]) for s in body["stage_days"]}
    assert list(days) == ["review", "ip_clearance", "signature", "active"]
    assert days["review"] == (3.0, False)
    assert days["ip_clearance"] == (2.0, False)
    assert days["signature"] == (1.0, False)
    active_days, current = days["active"]
    assert current
    assert active_days == pytest.approx((generated - (t + 6 * DAY)) / DAY, abs=0.01)

    assert [task["id"] for task in body["open_tasks"]] == [reported["late"], reported["upcoming"]]
    assert [task["assignee"]["name"] for task in body["open_tasks"]] == [
        "Olivia Officer",
        "IP counsel",
    ]
    assert [(task["id"], task["overdue"]) for task in body["overdue_tasks"]] == [
        (reported["late"], True)
    ]

    assert [
        (f["kind"], f["severity"], f["subject"], f["summary"], f["status"])
        for f in body["findings"]
    ] == [
        ("license_conflict", "warning", "subject 0", "summary 0", "open"),
        ("screening_hit", "critical", "subject 1", "summary 1", "dismissed"),
    ]

    met, missed = body["obligations"]
    assert (met["kind"], met["name"], met["status"], met["overdue"]) == (
        "report",
        "Annual report",
        "met",
        False,
    )
    assert at(met["due_at"]) == t + 15 * DAY
    assert at(met["met_at"]) == t + 14 * DAY
    assert (Decimal(met["income"]), met["units"], met["sublicenses"]) == (Decimal("1200.50"), 10, 1)
    assert (missed["kind"], missed["name"], missed["status"], missed["overdue"]) == (
        "milestone",
        "First sale",
        "open",
        True,
    )
    assert (missed["met_at"], missed["income"]) == (None, None)

    assert [
        (s["signer"]["name"], s["on_behalf_of"], s["order"], at(s["signed_at"]))
        for s in body["signatures"]
    ] == [
        ("Sid Signatory", "State University", 1, t + 5 * DAY + timedelta(hours=2)),
        ("Sofia Signatory", "Helio GmbH", 2, t + 5 * DAY + timedelta(hours=20)),
    ]


async def test_status_report_follows_the_read_rule(
    stack: Stack, sessions: async_sessionmaker[AsyncSession], reported: dict[str, Any]
) -> None:
    path = f"/v1/agreements/{reported['id']}/status-report"
    assert (await stack.actor("officer").get(path)).status_code == 200
    assert (await stack.actor("counsel").get(path)).status_code == 200

    _, token = await new_officer(sessions)
    async with stack.client_for(token) as other:
        response = await other.get(path)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden"

    unknown = await stack.actor("admin").get(f"/v1/agreements/{uuid.uuid4()}/status-report")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"
    assert (await stack.api.get(path)).status_code == 401


async def test_portfolio_as_json(stack: Stack, reported: dict[str, Any]) -> None:
    response = await stack.actor("admin").get("/v1/reports/portfolio")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["agreements"] >= 2
    assert sum(body["by_status"].values()) == body["agreements"]
    assert [s["stage"] for s in body["stages"]] == ["review", "ip_clearance", "signature", "active"]
    assert {"month": "2012-03", "executed": 1, "obligations_met": 0} in body["monthly"]
    assert Decimal(body["licensing"]["income_by_currency"]["USD"]) >= Decimal("1200.50")
    names = {o["name"] for o in body["overdue_tasks"]}
    assert "Olivia Officer" in names

    for actor in ("officer", "counsel"):
        assert (await stack.actor(actor).get("/v1/reports/portfolio")).status_code == 200


async def test_portfolio_as_csv(stack: Stack, reported: dict[str, Any]) -> None:
    for params, headers in (({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})):
        response = await stack.actor("admin").get(
            "/v1/reports/portfolio", params=params, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        today = datetime.now(UTC).date().isoformat()
        assert response.headers["content-disposition"] == (
            f'attachment; filename="portfolio-{today}.csv"'
        )
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert {"section": "monthly", "key": "2012-03", "metric": "executed", "value": "1"} in rows
        assert {r["section"] for r in rows} >= {"report", "status", "stage", "licensing"}


async def test_portfolio_as_html(stack: Stack, reported: dict[str, Any]) -> None:
    for params, headers in (({"format": "html"}, {}), ({}, {"Accept": "text/html"})):
        response = await stack.actor("admin").get(
            "/v1/reports/portfolio", params=params, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert "<svg" in response.text
        assert "2012-03" in response.text
    # The parameter wins over the header.
    response = await stack.actor("admin").get(
        "/v1/reports/portfolio", params={"format": "json"}, headers={"Accept": "text/html"}
    )
    assert response.headers["content-type"].startswith("application/json")


async def test_portfolio_is_refused_to_other_roles(stack: Stack) -> None:
    for actor in ("signatory1", "reviewer1"):
        response = await stack.actor(actor).get("/v1/reports/portfolio")
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "forbidden"
    bad = await stack.actor("admin").get("/v1/reports/portfolio", params={"format": "pdf"})
    assert bad.status_code == 422
