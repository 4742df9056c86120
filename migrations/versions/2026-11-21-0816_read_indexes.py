"""read indexes

Indexes that let the reads meet their targets at 100,000 agreements and 1,000,000
events (bench/reads.py; figures and plans in docs/reads-at-scale.md):

- agreements: (status | officer_id | kind, created_at, id) replace (status, created_at),
  (officer_id, created_at) and (kind): each list filter walks an index in the list's
  order (created_at DESC, id DESC) and stops after a page.
- tasks: (agreement_id | assignee_group_id | assignee_user_id, status, due_at, id)
  replace the same without id (and without due_at for agreement_id), and (status,
  due_at, id) is new: every list of tasks reads a page in (due_at, id) order.
- agreement_events, partial: the status changes (agreement_id, seq, to_status,
  created_at), which the portfolio's stage durations read in order; the activations
  (agreement_id, created_at), for executions per month and licensing.

Revision ID: 857b75387d94
Revises: c2327b7c918d
Create Date: 2026-11-21 08:16:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "857b75387d94"
down_revision: str | None = "c2327b7c918d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_CHANGES = "from_status IS NULL OR from_status <> to_status"
ACTIVATIONS = "type = 'activated'"


def _partial(predicate: str) -> dict[str, sa.TextClause]:
    return {"postgresql_where": sa.text(predicate), "sqlite_where": sa.text(predicate)}


def upgrade() -> None:
    op.drop_index("ix_agreements_status_created_at", table_name="agreements")
    op.drop_index("ix_agreements_officer_created_at", table_name="agreements")
    op.drop_index("ix_agreements_kind", table_name="agreements")
    op.create_index(
        "ix_agreements_status_created_at_id", "agreements", ["status", "created_at", "id"]
    )
    op.create_index(
        "ix_agreements_officer_created_at_id", "agreements", ["officer_id", "created_at", "id"]
    )
    op.create_index("ix_agreements_kind_created_at_id", "agreements", ["kind", "created_at", "id"])
    op.drop_index("ix_tasks_agreement_status", table_name="tasks")
    op.drop_index("ix_tasks_group_status_due", table_name="tasks")
    op.drop_index("ix_tasks_user_status_due", table_name="tasks")
    for name, leading in (
        ("ix_tasks_agreement_status_due_id", "agreement_id"),
        ("ix_tasks_group_status_due_id", "assignee_group_id"),
        ("ix_tasks_user_status_due_id", "assignee_user_id"),
    ):
        op.create_index(name, "tasks", [leading, "status", "due_at", "id"])
    op.create_index("ix_tasks_status_due_id", "tasks", ["status", "due_at", "id"])
    op.create_index(
        "ix_agreement_events_status_changes",
        "agreement_events",
        ["agreement_id", "seq", "to_status", "created_at"],
        **_partial(STATUS_CHANGES),
    )
    op.create_index(
        "ix_agreement_events_activations",
        "agreement_events",
        ["agreement_id", "created_at"],
        **_partial(ACTIVATIONS),
    )


def downgrade() -> None:
    op.drop_index("ix_agreement_events_activations", table_name="agreement_events")
    op.drop_index("ix_agreement_events_status_changes", table_name="agreement_events")
    op.drop_index("ix_tasks_status_due_id", table_name="tasks")
    op.drop_index("ix_tasks_user_status_due_id", table_name="tasks")
    op.drop_index("ix_tasks_group_status_due_id", table_name="tasks")
    op.drop_index("ix_tasks_agreement_status_due_id", table_name="tasks")
    op.create_index("ix_tasks_user_status_due", "tasks", ["assignee_user_id", "status", "due_at"])
    op.create_index("ix_tasks_group_status_due", "tasks", ["assignee_group_id", "status", "due_at"])
    op.create_index("ix_tasks_agreement_status", "tasks", ["agreement_id", "status"])
    op.drop_index("ix_agreements_kind_created_at_id", table_name="agreements")
    op.drop_index("ix_agreements_officer_created_at_id", table_name="agreements")
    op.drop_index("ix_agreements_status_created_at_id", table_name="agreements")
    op.create_index("ix_agreements_kind", "agreements", ["kind"])
    op.create_index("ix_agreements_officer_created_at", "agreements", ["officer_id", "created_at"])
    op.create_index("ix_agreements_status_created_at", "agreements", ["status", "created_at"])
