"""The workflow's stages as the seed plays them for one agreement: review, IP clearance,
signature and the active term (activation, periodic reports, completion or
termination), each written into the agreement's Story with the waits, votes, reminders
and escalations the workflow would have recorded.

Lifecycle holds what every stage draws on (the organisation, the clock, the random
source); bench/seed_rows.py's Generator builds on it.
"""

from __future__ import annotations

import calendar
import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.seed_story import Org, Story

POLICY_VERSION = "2026-11-21.1"
HOUR = 3600.0


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


class Lifecycle:
    """The stages, over the organisation, the clock (`now`) and the random source."""

    def __init__(self, org: Org, now: datetime, seed: int) -> None:
        self.org = org
        self.now = now
        self.rng = random.Random(seed)
        self.reviewers = {
            "technical": (org.users["reviewer1"], org.users["reviewer2"]),
            "legal": (org.users["reviewer2"],),
            "security": (org.users["security"],),
            "finance": (org.users["reviewer1"], org.users["admin"]),
        }

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def after(self, story: Story, mean_hours: float) -> datetime:
        """A moment after the story's clock: an exponential wait (at least 10 minutes),
        squeezed before now when it would fall after it."""
        wait = max(self.rng.expovariate(1 / mean_hours), 1 / 6) * HOUR
        at = story.clock + timedelta(seconds=wait)
        if at >= self.now:
            at = story.clock + (self.now - story.clock) * self.rng.uniform(0.05, 0.3)
        return at

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

    def review(self, story: Story, steps: list[dict[str, Any]], fate: str) -> bool:
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

    def clearance(self, story: Story, fate: str) -> bool:
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

    def signature(self, story: Story, fate: str) -> bool:
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
        self, story: Story, kind: str, term_months: int, period: int | None, value: Decimal
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
