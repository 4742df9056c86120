"""Bulk-seed a migrated Accord database with agreements at scale.

    .venv/bin/python -m bench.seed [--agreements 100000] [--database-url URL]
        [--batch 2000] [--seed 1]

Without --database-url, a SQLite file in a new temporary folder is migrated and seeded;
with it, the database must be migrated and hold no agreements yet (an empty PostgreSQL
database is migrated first). The demo organisation (services.demo) is created, plus
eleven more program officers; then N agreements with their parties, about ten events
each, their tasks, votes and obligations, as the workflow would have written them:
statuses spread over the lifecycle, creation dates over five years, event seq gapless
per agreement, open review tasks assigned to the review groups (a few thousand for the
technical review board), signature tasks to the demo signatories, report tasks to the
officers. Deterministic for a given --seed.

PostgreSQL is loaded with COPY (asyncpg copy_records_to_table), other databases with
SQLAlchemy Core insert() executemany, in batches of --batch agreements, one transaction
each; the tables' secondary indexes are dropped for the load and built again after it
(on PostgreSQL, VACUUM ANALYZE follows, as autovacuum would). Prints rows per table and
the time taken.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import json
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Index, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tqdm import tqdm

from services.api.auth import hash_token, new_token
from services.config import Settings
from services.demo import DEMO_USERS, seed_demo
from services.store import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    Group,
    Obligation,
    Role,
    Task,
    TaskDecision,
    User,
)
from services.store.session import create_engine, create_session_factory

POLICY_VERSION = "2026-11-21.1"
WATCH_LIST = {"BY", "CU", "IR", "KP", "RU", "SY", "VE"}
DAY = 86400.0
HOUR = 3600.0
EXTRA_OFFICERS = 11

# Columns in the order each generated row tuple holds them.
AGREEMENT_COLUMNS = (
    "id",
    "workflow_id",
    "title",
    "kind",
    "summary",
    "status",
    "officer_id",
    "ip_assets",
    "terms",
    "signatories",
    "export_control",
    "estimated_value",
    "currency",
    "revision",
    "policy_version",
    "idempotency_key",
    "request_hash",
    "last_seq",
    "conditions",
    "document_id",
    "document_sha256",
    "effective_at",
    "ends_at",
    "overdue_obligations",
    "created_at",
    "updated_at",
    "status_changed_at",
)
PARTY_COLUMNS = ("agreement_id", "position", "name", "country", "role")
EVENT_COLUMNS = (
    "agreement_id",
    "seq",
    "key",
    "type",
    "actor_id",
    "from_status",
    "to_status",
    "data",
    "created_at",
)
TASK_COLUMNS = (
    "id",
    "agreement_id",
    "kind",
    "step_key",
    "step_name",
    "round",
    "assignee_user_id",
    "assignee_group_id",
    "approvals_required",
    "status",
    "outcome",
    "due_at",
    "created_at",
    "closed_at",
    "reminded_at",
    "escalated_at",
)
DECISION_COLUMNS = ("task_id", "actor_id", "outcome", "comment", "data", "decided_at")
OBLIGATION_COLUMNS = (
    "id",
    "agreement_id",
    "kind",
    "name",
    "due_at",
    "opens_at",
    "status",
    "overdue",
    "task_id",
    "met_at",
    "narrative",
    "income",
    "units",
    "sublicenses",
    "attachments",
)
# JSON columns, which COPY takes as text.
JSON_COLUMNS = {"ip_assets", "terms", "signatories", "export_control", "conditions", "data"}
JSON_COLUMNS_OBLIGATIONS = {"attachments"}

KINDS = (
    ("license", 24),
    ("option", 8),
    ("technology_transfer", 10),
    ("exchange_program", 10),
    ("research_collaboration", 25),
    ("material_transfer", 18),
    ("defense_sharing", 5),
)
GRANTING = {"license", "option", "technology_transfer"}
COUNTRIES = (
    ("US", 30), ("DE", 8), ("GB", 7), ("FR", 6), ("JP", 6), ("CN", 5), ("CA", 5),
    ("IN", 4), ("CH", 3), ("NL", 3), ("KR", 3), ("SE", 2), ("IT", 2), ("ES", 2),
    ("AU", 2), ("IL", 2), ("BR", 2), ("SG", 2), ("BE", 1), ("DK", 1), ("FI", 1),
    ("NO", 1), ("AT", 1), ("IE", 1), ("MX", 1), ("RU", 0.4), ("IR", 0.1),
)  # fmt: skip
UNIVERSITIES = (
    "State University", "Northfield Institute of Technology", "Lakeside University",
    "Riverside Medical School", "Eastern Polytechnic", "Coastal University",
)  # fmt: skip
COMPANY_STEMS = (
    "Helio", "Nordic Materials", "Quantix", "Biovera", "Arcturus", "Lumen", "Ferro",
    "Cobalt Labs", "Meridian", "Photonics", "Genexa", "Tessel", "Orbital", "Halcyon",
    "Verdant", "Kestrel", "Axiom", "Sable", "Cirrus", "Polaris", "Zenith", "Aurora",
)  # fmt: skip
COMPANY_FORMS = ("GmbH", "Inc.", "Ltd", "AB", "SA", "KK", "BV", "AG", "LLC", "Pty Ltd")
TOPICS = (
    "perovskite solar cell", "CRISPR base editor", "graphene supercapacitor",
    "quantum dot display", "mRNA vaccine adjuvant", "solid-state battery electrolyte",
    "lidar beam steering", "protein folding model", "desalination membrane",
    "carbon capture sorbent", "microfluidic assay", "neuromorphic chip", "bioplastic resin",
    "antibody fragment", "hydrogen electrolyser", "soil microbiome probe", "optical clock",
    "radar signal processor", "drug delivery nanoparticle", "wind turbine blade coating",
    "seismic sensor array", "cell culture scaffold", "superconducting wire",
    "water purification catalyst", "satellite antenna", "gene therapy vector",
    "low-power radio", "enzyme for biofuel", "medical imaging agent", "thermoelectric module",
    "crop drought gene", "haptic interface", "exoskeleton actuator", "spintronic memory",
    "metamaterial lens", "insulin biosimilar", "fire-retardant foam", "ion trap qubit",
    "ocean current turbine", "smart glass film",
)  # fmt: skip
DEPARTMENTS = ("physics", "chemistry", "biology", "engineering", "medicine", "computing")
# What becomes of an agreement: (cumulative share, fate). "activated" ones end active,
# completed or terminated depending on their term.
FATES = (
    (0.050, "in_review"),
    (0.056, "changes_requested"),
    (0.071, "ip_clearance"),
    (0.086, "in_signature"),
    (0.166, "rejected"),
    (0.226, "withdrawn"),
    (0.241, "blocked"),
    (0.266, "expired"),
    (1.000, "activated"),
)
KIND_LABEL = {
    "license": "license",
    "option": "option",
    "technology_transfer": "technology transfer",
    "exchange_program": "exchange",
    "research_collaboration": "research collaboration",
    "material_transfer": "MTA",
    "defense_sharing": "defense sharing",
}


@dataclass
class Org:
    """The ids the generated rows point at."""

    officers: list[str]
    groups: dict[str, str]
    users: dict[str, str]  # demo key -> id


@dataclass
class Batch:
    agreements: list[tuple[Any, ...]] = field(default_factory=list)
    parties: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    tasks: list[tuple[Any, ...]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    obligations: list[tuple[Any, ...]] = field(default_factory=list)


def _weighted(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    names = [name for name, _ in pairs]
    cumulative: list[float] = []
    total = 0.0
    for _, weight in pairs:
        total += weight
        cumulative.append(total)
    return names, cumulative


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class _Story:
    """One agreement's life, written as the projection would have written it."""

    def __init__(self, gen: Generator, agreement_id: str, officer_id: str, t0: datetime) -> None:
        self.gen, self.rng = gen, gen.rng
        self.id = agreement_id
        self.officer_id = officer_id
        self.t0 = t0
        self.workflow_id = f"agreement-{agreement_id}"
        self.status: str | None = None
        self.status_changed_at = t0
        self.clock = t0
        self.seq = 0
        self.revision = 0
        self.events: list[tuple[Any, ...]] = []
        self.tasks: dict[str, list[Any]] = {}
        self.decisions: list[tuple[Any, ...]] = []
        self.obligations: list[tuple[Any, ...]] = []

    def event(
        self,
        type_: str,
        to_status: str,
        at: datetime,
        actor_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.seq += 1
        self.clock = at
        if to_status != self.status:
            self.status_changed_at = at
        self.events.append(
            (
                self.id,
                self.seq,
                f"{self.workflow_id}/{self.seq}",
                type_,
                actor_id,
                self.status,
                to_status,
                data or {},
                at,
            )
        )
        self.status = to_status

    def open_task(
        self,
        kind: str,
        step_key: str,
        step_name: str,
        at: datetime,
        due_at: datetime,
        *,
        user_id: str | None = None,
        group_id: str | None = None,
        approvals: int = 1,
    ) -> str:
        task_id = self.gen.uuid()
        self.tasks[task_id] = [
            task_id,
            self.id,
            kind,
            step_key,
            step_name,
            self.revision,
            user_id,
            group_id,
            approvals,
            "open",
            None,
            due_at,
            at,
            None,
            None,
            None,
        ]
        return task_id

    def close_task(self, task_id: str, status: str, outcome: str | None, at: datetime) -> None:
        row = self.tasks[task_id]
        row[9], row[10], row[13] = status, outcome, at

    def vote(self, task_id: str, actor_id: str, outcome: str, at: datetime, **data: Any) -> None:
        self.decisions.append((task_id, actor_id, outcome, "", data, at))

    def remind(self, task_id: str, until: datetime) -> None:
        """The reminder (and escalation) the workflow sends while a task waits."""
        row = self.tasks[task_id]
        created, due = row[12], row[11]
        data = {"task_id": task_id, "step": row[3]}
        remind_at = created + (due - created) / 2
        if remind_at < until and self.rng.random() < 0.7:
            self.event("reminder", self.status or "in_review", remind_at, None, data | {"n": 1})
            row[14] = remind_at
        escalate_at = due + timedelta(days=1)
        if escalate_at < until and self.rng.random() < 0.8:
            self.event("escalation", self.status or "in_review", escalate_at, None, data)
            row[15] = escalate_at


class Generator:
    def __init__(self, org: Org, now: datetime, seed: int) -> None:
        self.org = org
        self.now = now
        self.rng = random.Random(seed)
        self.kinds = _weighted(KINDS)
        self.countries = _weighted(COUNTRIES)
        self.reviewers = {
            "technical": (org.users["reviewer1"], org.users["reviewer2"]),
            "legal": (org.users["reviewer2"],),
            "security": (org.users["security"],),
            "finance": (org.users["reviewer1"], org.users["admin"]),
        }

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def pick(self, weighted: tuple[list[str], list[float]]) -> str:
        names, cumulative = weighted
        return self.rng.choices(names, cum_weights=cumulative)[0]

    def population(self, count: int) -> list[tuple[datetime, str]]:
        """(created_at, fate) of every agreement, oldest first, as they were inserted.

        In-flight agreements are recent; the others were created any time in five years.
        """
        rng, fates = self.rng, []
        for _ in range(count):
            roll = rng.random()
            fate = next(fate for bound, fate in FATES if roll < bound)
            in_flight = fate in ("in_review", "changes_requested", "ip_clearance", "in_signature")
            # Work in flight is mostly weeks old, with a tail of stalled agreements.
            age = min(rng.expovariate(1 / 20), 150) if in_flight else rng.uniform(20, 5 * 365)
            fates.append((self.now - timedelta(seconds=age * DAY), fate))
        fates.sort()
        return fates

    def after(self, story: _Story, mean_hours: float) -> datetime:
        """A moment after the story's clock: an exponential wait (at least 10 minutes),
        squeezed before now when it would fall after it."""
        wait = max(self.rng.expovariate(1 / mean_hours), 1 / 6) * HOUR
        at = story.clock + timedelta(seconds=wait)
        if at >= self.now:
            at = story.clock + (self.now - story.clock) * self.rng.uniform(0.05, 0.3)
        return at

    def batch(self, population: list[tuple[datetime, str]], start: int, count: int) -> Batch:
        batch = Batch()
        for n in range(start, start + count):
            created_at, fate = population[n]
            self.agreement(n, created_at, fate, batch)
        return batch

    def agreement(self, n: int, t0: datetime, fate: str, batch: Batch) -> None:
        rng = self.rng
        officers = self.org.officers
        story = _Story(self, self.uuid(), officers[n % len(officers)], t0)
        kind = self.pick(self.kinds)
        granting = kind in GRANTING
        university = UNIVERSITIES[rng.randrange(len(UNIVERSITIES))]
        home = "US" if rng.random() < 0.85 else self.pick(self.countries)
        parties = [(university, home, "licensor" if granting else "provider")]
        for _ in range(1 if rng.random() < 0.8 else 2):
            company = (
                f"{COMPANY_STEMS[rng.randrange(len(COMPANY_STEMS))]} "
                f"{COMPANY_FORMS[rng.randrange(len(COMPANY_FORMS))]}"
            )
            parties.append(
                (company, self.pick(self.countries), "licensee" if granting else "partner")
            )
        for position, (name, country, role) in enumerate(parties):
            batch.parties.append((story.id, position, name, country, role))
        value = Decimal(int(rng.lognormvariate(12, 1.3) * 100)) / 100
        topic = TOPICS[rng.randrange(len(TOPICS))]
        title = f"{topic[0].upper()}{topic[1:]} {KIND_LABEL[kind]} {t0.year}-{n:06d}"
        department = DEPARTMENTS[rng.randrange(len(DEPARTMENTS))]
        summary = (
            f"{KIND_LABEL[kind].capitalize()} between {parties[0][0]} and {parties[1][0]} "
            f"on the {topic} work of the {department} department."
        )
        term_months = rng.choice((12, 24, 36, 48, 60))
        period = rng.choice((6, 12, 12)) if granting else None
        terms = {
            "exclusive": granting and rng.random() < 0.4,
            "field_of_use": topic if granting else None,
            "territories": ["WW"] if rng.random() < 0.5 else [parties[1][1]],
            "term_months": term_months,
            "royalty_rate": str(rng.choice((2, 3, 3.5, 5))) if granting else None,
            "reporting_period_months": period,
            "milestones": [],
        }
        signatories = [
            {"email": "sid.signatory@accord.test", "on_behalf_of": parties[0][0], "order": 1},
            {"email": "sofia.signatory@accord.test", "on_behalf_of": parties[1][0], "order": 2},
        ]
        watched = any(country in WATCH_LIST for _, country, _ in parties)
        steps = self.plan(kind, watched, value)

        effective_at = ends_at = None
        overdue_obligations = 0
        if (
            self.review(story, steps, fate)
            and self.clearance(story, fate)
            and self.signature(story, fate)
        ):
            effective_at, ends_at, overdue_obligations = self.active(
                story, kind, term_months, period, value
            )
        batch.agreements.append(
            (
                story.id,
                story.workflow_id,
                title,
                kind,
                summary,
                story.status,
                story.officer_id,
                [],
                terms,
                signatories,
                {"jurisdiction": "EAR", "classification": "EAR99", "license_number": None}
                if kind == "defense_sharing"
                else None,
                value,
                "USD" if rng.random() < 0.8 else rng.choice(("EUR", "GBP", "JPY")),
                story.revision,
                POLICY_VERSION,
                None,
                None,
                story.seq,
                [],
                None,
                None,
                effective_at,
                ends_at,
                overdue_obligations,
                t0,
                story.clock,
                story.status_changed_at,
            )
        )
        batch.events += story.events
        batch.tasks += [tuple(row) for row in story.tasks.values()]
        batch.decisions += story.decisions
        batch.obligations += story.obligations

    def plan(self, kind: str, watched: bool, value: Decimal) -> list[dict[str, Any]]:
        """The steps the shipped review policy (config/review_policy.yaml) gives."""
        steps = []
        if kind == "defense_sharing":
            steps.append(("technical_dual", "Technical review (two reviewers)", "technical", 2, 96))
        else:
            steps.append(("technical", "Technical review", "technical", 1, 72))
        steps.append(("legal", "Legal review", "legal", 1, 72))
        if kind == "defense_sharing" or watched:
            steps.append(("security", "Security review", "security", 1, 120))
        if value >= 1_000_000:
            steps.append(("finance", "Finance review", "finance", 1, 72))
        return [
            {"key": key, "name": name, "area": area, "approvals": approvals, "sla": sla * HOUR}
            for key, name, area, approvals, sla in steps
        ]

    @staticmethod
    def plan_data(steps: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "policy_version": POLICY_VERSION,
            "steps": [
                {
                    "key": s["key"],
                    "name": s["name"],
                    "group": f"{s['area']}-review",
                    "approvals_required": s["approvals"],
                }
                for s in steps
            ],
        }

    def review(self, story: _Story, steps: list[dict[str, Any]], fate: str) -> bool:
        """Submission and review; True when the agreement left review approved."""
        rng, org = self.rng, self.org
        story.event("submitted", "in_review", story.t0, story.officer_id, self.plan_data(steps))
        changes_round = fate == "changes_requested" or rng.random() < 0.07
        # The step where review stops, or returns the proposal for changes.
        stop_step = rng.randrange(len(steps))
        withdraw_in_review = fate == "withdrawn" and rng.random() < 0.6
        for round_ in range(2 if changes_round else 1):
            last_round = not changes_round or round_ == 1
            for index, step in enumerate(steps):
                opened = story.clock
                task_id = story.open_task(
                    "review",
                    step["key"],
                    step["name"],
                    opened,
                    opened + timedelta(seconds=step["sla"]),
                    group_id=org.groups[f"{step['area']}-review"],
                    approvals=step["approvals"],
                )
                voters = self.reviewers[step["area"]]
                stopping = last_round and index == stop_step
                if stopping and fate == "in_review":
                    story.remind(task_id, self.now)
                    if step["approvals"] == 2 and rng.random() < 0.5:
                        at = self.after(story, 20)
                        story.vote(task_id, voters[0], "approve", at)
                        story.event("review_vote", "in_review", at, voters[0], {"task_id": task_id})
                    return False
                decided_at = self.after(story, 30)
                story.remind(task_id, decided_at)
                decided_at = max(decided_at, story.clock + timedelta(seconds=1))
                base = {"task_id": task_id, "step": step["key"]}
                if stopping and withdraw_in_review:
                    story.close_task(task_id, "cancelled", None, decided_at)
                    story.event("withdrawn", "withdrawn", decided_at, story.officer_id, base)
                    return False
                if step["approvals"] == 2:
                    story.vote(task_id, voters[0], "approve", decided_at)
                    story.event("review_vote", "in_review", decided_at, voters[0], base)
                    decided_at = self.after(story, 10)
                actor = voters[-1] if step["approvals"] == 2 else rng.choice(voters)
                if not last_round and index == stop_step:
                    story.vote(task_id, actor, "request_changes", decided_at)
                    story.close_task(task_id, "done", "request_changes", decided_at)
                    story.event("changes_requested", "changes_requested", decided_at, actor, base)
                    if fate == "changes_requested":
                        return False
                    story.revision += 1
                    revised_at = self.after(story, 48)
                    story.event(
                        "revised", "in_review", revised_at, story.officer_id, self.plan_data(steps)
                    )
                    break
                if stopping and fate == "rejected":
                    story.vote(task_id, actor, "reject", decided_at)
                    story.close_task(task_id, "done", "reject", decided_at)
                    story.event("rejected", "rejected", decided_at, actor, base)
                    return False
                story.vote(task_id, actor, "approve", decided_at)
                story.close_task(task_id, "done", "approve", decided_at)
                if index + 1 < len(steps):
                    story.event("review_step_approved", "in_review", decided_at, actor, base)
                else:
                    story.event("review_completed", "ip_clearance", decided_at, actor, base)
        return True

    def clearance(self, story: _Story, fate: str) -> bool:
        org = self.org
        at = story.clock + timedelta(seconds=20)
        task_id = story.open_task(
            "ip_clearance", "ip_clearance", "IP clearance", at, at + timedelta(hours=120),
            group_id=org.groups["ip-counsel"],
        )  # fmt: skip
        story.event(
            "ip_checks_completed",
            "ip_clearance",
            at,
            None,
            {"findings": 0, "by_severity": {}, "kinds": [], "task_id": task_id},
        )
        if fate == "ip_clearance":
            story.remind(task_id, self.now)
            return False
        decided_at = self.after(story, 60)
        story.remind(task_id, decided_at)
        decided_at = max(decided_at, story.clock + timedelta(seconds=1))
        counsel = org.users["counsel"]
        base = {"task_id": task_id}
        if fate == "blocked":
            story.vote(task_id, counsel, "block", decided_at)
            story.close_task(task_id, "done", "block", decided_at)
            story.event("blocked", "blocked", decided_at, counsel, base)
            return False
        if fate == "withdrawn":
            story.close_task(task_id, "cancelled", None, decided_at)
            story.event("withdrawn", "withdrawn", decided_at, story.officer_id, base)
            return False
        story.vote(task_id, counsel, "clear", decided_at)
        story.close_task(task_id, "done", "clear", decided_at)
        story.event("cleared", "in_signature", decided_at, counsel, base | {"conditions": []})
        return True

    def signature(self, story: _Story, fate: str) -> bool:
        """Sid signs, then Sofia; the envelope expires 30 days after it went out."""
        org = self.org
        expires_at = story.clock + timedelta(days=30)
        signers = (org.users["signatory1"], org.users["signatory2"])
        for order, signer in enumerate(signers, 1):
            task_id = story.open_task(
                "signature", f"signature_{order}", f"Signature {order}", story.clock,
                expires_at, user_id=signer,
            )  # fmt: skip
            if fate == "in_signature" and (order == 2 or self.rng.random() < 0.5):
                return False
            if fate == "expired" and (order == 2 or self.rng.random() < 0.3):
                at = min(expires_at, self.now - timedelta(minutes=1))
                at = max(at, story.clock + timedelta(seconds=1))
                story.close_task(task_id, "expired", None, at)
                story.event("envelope_expired", "expired", at, None, {"signed": order - 1})
                return False
            signed_at = self.after(story, 40)
            story.vote(task_id, signer, "sign", signed_at, document_sha256="0" * 64)
            story.close_task(task_id, "done", "sign", signed_at)
            story.event(
                "signed", "in_signature", signed_at, signer, {"order": order, "task_id": task_id}
            )
        return True

    def active(
        self, story: _Story, kind: str, term_months: int, period: int | None, value: Decimal
    ) -> tuple[datetime, datetime, int]:
        """Activation, the periodic reports, and the end: completed or terminated."""
        rng = self.rng
        effective_at = story.clock + timedelta(seconds=20)
        ends_at = _add_months(effective_at, term_months)
        dues: list[datetime] = []
        if period:
            number = 1
            while (due := _add_months(effective_at, number * period)) <= ends_at:
                dues.append(due)
                number += 1
        story.event(
            "activated",
            "active",
            effective_at,
            None,
            {
                "effective_at": effective_at.isoformat(),
                "ends_at": ends_at.isoformat(),
                "obligations": len(dues),
            },
        )
        terminated_at = None
        if rng.random() < 0.06:
            terminated_at = effective_at + (ends_at - effective_at) * rng.uniform(0.05, 0.95)
        end = min(self.now, terminated_at or ends_at)
        ended = end < self.now
        overdue_unmet = 0
        for number, due in enumerate(dues, 1):
            obligation_id = self.uuid()
            opens_at = max(effective_at, due - timedelta(days=30))
            name = f"Report {number} ({period}-month period)"
            if opens_at >= end:
                story.obligations.append(
                    (obligation_id, story.id, "report", name, due, opens_at,
                     "cancelled" if ended else "pending", False,
                     None, None, None, None, None, None, [])
                )  # fmt: skip
                continue
            task_id = story.open_task(
                "report", "report", name, opens_at, due, user_id=story.officer_id
            )
            base = {"obligation_id": obligation_id, "task_id": task_id}
            story.event("obligation_opened", "active", opens_at, None, base)
            met_at = opens_at + timedelta(days=rng.uniform(1, 45))
            met = rng.random() < 0.88 and met_at < end
            overdue = (met_at if met else end) > due
            if overdue:
                story.event("obligation_overdue", "active", due, None, base)
            if met:
                income = (value * Decimal(rng.uniform(0.001, 0.05))).quantize(Decimal("0.01"))
                story.vote(task_id, story.officer_id, "submit", met_at)
                story.close_task(task_id, "done", "submit", met_at)
                story.event("report_submitted", "active", met_at, story.officer_id, base)
                story.obligations.append(
                    (obligation_id, story.id, "report", name, due, opens_at, "met", overdue,
                     task_id, met_at, "On track.", None if kind == "option" else income,
                     rng.randrange(0, 500), rng.randrange(0, 3), [])
                )  # fmt: skip
                continue
            # Unmet: open (its task in the officer's inbox) while the agreement lasts.
            if ended:
                story.close_task(task_id, "cancelled", None, end)
            story.obligations.append(
                (obligation_id, story.id, "report", name, due, opens_at,
                 "missed" if ended else "open", overdue, task_id,
                 None, None, None, None, None, [])
            )  # fmt: skip
            overdue_unmet += overdue
        if ended:
            if terminated_at is not None:
                story.event("terminated", "terminated", end, self.org.users["admin"], {})
            else:
                story.event("completed", "completed", end, None, {})
        return effective_at, ends_at, overdue_unmet


async def _organisation(engine: AsyncEngine, tokens_file: Path) -> tuple[Org, dict[str, str]]:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        tokens = await seed_demo(session, tokens_file)
        by_email = {email: uid for email, uid in await session.execute(select(User.email, User.id))}
        users = {demo.key: by_email[demo.email] for demo in DEMO_USERS}
        officers = [users["officer"]]
        for n in range(1, EXTRA_OFFICERS + 1):
            email = f"officer{n:02d}@accord.test"
            existing = await session.scalar(select(User.id).where(User.email == email))
            if existing is None:
                user = User(
                    email=email,
                    name=f"Officer {n:02d}",
                    role=Role.PROGRAM_OFFICER,
                    token_hash=hash_token(new_token()),
                )
                session.add(user)
                await session.flush()
                existing = user.id
            officers.append(existing)
        groups = {slug: gid for slug, gid in await session.execute(select(Group.slug, Group.id))}
        await session.commit()
    return Org(officers=officers, groups=groups, users=users), tokens


def _json_text(rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    json_at = [i for i, c in enumerate(columns) if c in JSON_COLUMNS | JSON_COLUMNS_OBLIGATIONS]
    for row in rows:
        values = list(row)
        for i in json_at:
            if values[i] is not None:
                values[i] = json.dumps(values[i])
        yield tuple(values)


TABLES: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("agreements", Agreement.__table__, AGREEMENT_COLUMNS),
    ("parties", AgreementParty.__table__, PARTY_COLUMNS),
    ("events", AgreementEvent.__table__, EVENT_COLUMNS),
    ("tasks", Task.__table__, TASK_COLUMNS),
    ("decisions", TaskDecision.__table__, DECISION_COLUMNS),
    ("obligations", Obligation.__table__, OBLIGATION_COLUMNS),
)


async def _write(connection: AsyncConnection, batch: Batch, counts: dict[str, int]) -> None:
    postgres = connection.dialect.name == "postgresql"
    for name, table, columns in TABLES:
        rows: list[tuple[Any, ...]] = getattr(batch, name)
        if not rows:
            continue
        counts[name] = counts.get(name, 0) + len(rows)
        if postgres:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.copy_records_to_table(
                table.name, records=list(_json_text(rows, columns)), columns=list(columns)
            )
        else:
            await connection.execute(
                insert(table), [dict(zip(columns, r, strict=True)) for r in rows]
            )


@dataclass
class SeedResult:
    tokens: dict[str, str]
    counts: dict[str, int]
    seconds: float
    load_seconds: float = 0.0
    index_seconds: float = 0.0


def _each(sync: Any, indexes: list[Index], action: str) -> None:
    for index in indexes:
        getattr(index, action)(sync)


def _secondary_indexes() -> list[Index]:
    """The plain indexes of the bulk-loaded tables (keys and unique constraints stay)."""
    return [index for _, table, _ in TABLES for index in sorted(table.indexes, key=str)]


async def seed(
    engine: AsyncEngine,
    agreements: int,
    tokens_file: Path,
    *,
    batch_size: int = 2000,
    rng_seed: int = 1,
    progress: bool = True,
) -> SeedResult:
    """Seed a migrated database that holds no agreements yet; returns the demo tokens.

    The tables' secondary indexes are dropped for the load and built again after it, as
    the migrations define them: building an index once is several times cheaper than
    inserting 2,400,000 rows into it one by one.
    """
    started = time.perf_counter()
    org, tokens = await _organisation(engine, tokens_file)
    async with engine.connect() as connection:
        existing = await connection.scalar(select(func.count()).select_from(Agreement))
    if existing:
        raise SystemExit(f"the database already holds {existing} agreements")
    now = datetime.now(UTC).replace(microsecond=0)
    generator = Generator(org, now, rng_seed)
    population = generator.population(agreements)
    counts: dict[str, int] = {}
    indexes = _secondary_indexes()
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as connection:
        await connection.run_sync(_each, indexes, "drop")
    try:
        with tqdm(total=agreements, unit="agr", disable=not progress, smoothing=0.1) as bar:
            for start in range(0, agreements, batch_size):
                count = min(batch_size, agreements - start)
                batch = generator.batch(population, start, count)
                async with engine.begin() as connection:
                    if postgres:
                        await connection.execute(text("SET LOCAL synchronous_commit = off"))
                    await _write(connection, batch, counts)
                bar.update(count)
                bar.set_postfix(events=counts.get("events", 0), refresh=False)
    finally:
        loaded = time.perf_counter()
        async with engine.begin() as connection:
            if postgres:
                await connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            await connection.run_sync(_each, indexes, "create")
    indexed = time.perf_counter()
    if postgres:
        # What autovacuum does after a bulk load: statistics, and the visibility map that
        # index-only scans rely on.
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    return SeedResult(
        tokens=tokens,
        counts=counts,
        seconds=time.perf_counter() - started,
        load_seconds=loaded - started,
        index_seconds=indexed - loaded,
    )


def describe(result: SeedResult) -> str:
    rows = sum(result.counts.values())
    parts = ", ".join(f"{name} {value:,}" for name, value in result.counts.items())
    return (
        f"seeded {rows:,} rows ({parts}) in {result.seconds:.1f}s: load "
        f"{result.load_seconds:.1f}s, indexes {result.index_seconds:.1f}s, then statistics "
        f"= {rows / result.seconds:,.0f} rows/s"
    )


async def main(args: argparse.Namespace) -> None:
    from services.cli import migrate

    workdir = Path(tempfile.mkdtemp(prefix="accord-seed-"))
    database_url = Settings(
        database_url=args.database_url or f"sqlite+aiosqlite:///{workdir / 'accord.db'}"
    ).database_url
    await asyncio.to_thread(migrate, database_url)
    engine = create_engine(database_url)
    try:
        result = await seed(
            engine,
            args.agreements,
            Path(args.tokens_file or workdir / "tokens.json"),
            batch_size=args.batch,
            rng_seed=args.seed,
        )
    finally:
        await engine.dispose()
    print(f"database: {database_url}")
    print(describe(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=100_000)
    parser.add_argument("--database-url", help="a migrated or empty database (default: SQLite)")
    parser.add_argument("--batch", type=int, default=2000, help="agreements per transaction")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--tokens-file", help="where the demo tokens go (default: temp dir)")
    asyncio.run(main(parser.parse_args()))
