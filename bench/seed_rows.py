"""The agreements the seed writes, as rows: who the parties are, what kind, value and
terms, when each was created and what became of it (FATES), and the row tuples of every
table in the order of its columns (*_COLUMNS), in batches.

Deterministic for a given seed: every draw comes from the one random source, in the
order the agreements are generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.seed_lifecycle import HOUR, POLICY_VERSION, Lifecycle
from bench.seed_story import Org, Story

WATCH_LIST = {"BY", "CU", "IR", "KP", "RU", "SY", "VE"}
DAY = 86400.0

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


class Generator(Lifecycle):
    def __init__(self, org: Org, now: datetime, seed: int) -> None:
        super().__init__(org, now, seed)
        self.kinds = _weighted(KINDS)
        self.countries = _weighted(COUNTRIES)

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

    def batch(self, population: list[tuple[datetime, str]], start: int, count: int) -> Batch:
        batch = Batch()
        for n in range(start, start + count):
            created_at, fate = population[n]
            self.agreement(n, created_at, fate, batch)
        return batch

    def agreement(self, n: int, t0: datetime, fate: str, batch: Batch) -> None:
        rng = self.rng
        officers = self.org.officers
        story = Story(self, self.uuid(), officers[n % len(officers)], t0)
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
