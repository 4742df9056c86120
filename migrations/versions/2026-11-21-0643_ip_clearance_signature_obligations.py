"""ip clearance signature obligations

Revision ID: c2327b7c918d
Revises: 313e7a638a37
Create Date: 2026-11-21 06:43:54.657202+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import services.store.base

revision: str = "c2327b7c918d"
down_revision: str | None = "313e7a638a37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screening_entries",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "alt_names",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "programs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "addresses",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_entries")),
    )
    op.create_table(
        "screening_lists",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("loaded_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_lists")),
    )
    op.create_index(
        op.f("ix_screening_lists_loaded_at"), "screening_lists", ["loaded_at"], unique=False
    )
    op.create_table(
        "ip_assets",
        sa.Column("identifier", sa.String(length=100), nullable=False),
        sa.Column("asset_type", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column(
            "inventors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "funding",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=36), nullable=False),
        sa.Column("created_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_ip_assets_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_assets")),
        sa.UniqueConstraint("identifier", name=op.f("uq_ip_assets_identifier")),
    )
    op.create_table(
        "agreement_documents",
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_documents_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_documents")),
        sa.UniqueConstraint(
            "agreement_id", "sha256", name=op.f("uq_agreement_documents_agreement_id_sha256")
        ),
    )
    op.create_table(
        "findings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("screening_entry_id", sa.String(length=100), nullable=True),
        sa.Column("party_key", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dismissed_by", sa.String(length=36), nullable=True),
        sa.Column("dismissal_reason", sa.Text(), nullable=True),
        sa.Column("dismissed_at", services.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_findings_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dismissed_by"], ["users.id"], name=op.f("fk_findings_dismissed_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    op.create_index(
        "ix_findings_agreement_round", "findings", ["agreement_id", "round"], unique=False
    )
    op.create_table(
        "ip_licenses",
        sa.Column("asset_id", sa.String(length=36), nullable=False),
        sa.Column("licensee", sa.String(length=200), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("field_of_use", sa.Text(), nullable=True),
        sa.Column(
            "territories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("agreement_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_ip_licenses_agreement_id_agreements"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["ip_assets.id"],
            name=op.f("fk_ip_licenses_asset_id_ip_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_licenses")),
    )
    op.create_index(
        op.f("ix_ip_licenses_agreement_id"), "ip_licenses", ["agreement_id"], unique=False
    )
    op.create_index(
        "ix_ip_licenses_asset_active", "ip_licenses", ["asset_id", "active"], unique=False
    )
    op.create_table(
        "screening_clearances",
        sa.Column("party_key", sa.String(length=300), nullable=False),
        sa.Column("entry_id", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=False),
        sa.Column("agreement_id", sa.String(length=36), nullable=True),
        sa.Column("finding_id", sa.String(length=36), nullable=True),
        sa.Column("decided_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_screening_clearances_agreement_id_agreements"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_screening_clearances_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_clearances")),
        sa.UniqueConstraint(
            "party_key", "entry_id", name=op.f("uq_screening_clearances_party_key_entry_id")
        ),
    )
    op.create_table(
        "obligations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("due_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opens_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("met_at", services.store.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column("income", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("units", sa.Integer(), nullable=True),
        sa.Column("sublicenses", sa.Integer(), nullable=True),
        sa.Column(
            "attachments",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_obligations_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_obligations_task_id_tasks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
    )
    op.create_index(
        "ix_obligations_agreement_due", "obligations", ["agreement_id", "due_at"], unique=False
    )
    op.create_index("ix_obligations_status_due", "obligations", ["status", "due_at"], unique=False)
    op.create_table(
        "signatures",
        sa.Column("agreement_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("on_behalf_of", sa.String(length=200), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("signed_at", services.store.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_signatures_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_signatures_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_signatures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
        sa.UniqueConstraint("task_id", name=op.f("uq_signatures_task_id")),
    )
    op.create_index(
        op.f("ix_signatures_agreement_id"), "signatures", ["agreement_id"], unique=False
    )
    op.add_column(
        "agreements",
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'[]'"),
        ),
    )
    op.add_column(
        "agreements",
        sa.Column(
            "signatories",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
            server_default=sa.text("'[]'"),
        ),
    )
    op.add_column(
        "agreements",
        sa.Column(
            "export_control",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column("agreements", sa.Column("document_id", sa.String(length=36), nullable=True))
    op.add_column("agreements", sa.Column("document_sha256", sa.String(length=64), nullable=True))
    op.add_column(
        "agreements",
        sa.Column("effective_at", services.store.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "agreements",
        sa.Column("ends_at", services.store.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "agreements",
        sa.Column("overdue_obligations", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("agreements", "overdue_obligations")
    op.drop_column("agreements", "ends_at")
    op.drop_column("agreements", "effective_at")
    op.drop_column("agreements", "document_sha256")
    op.drop_column("agreements", "document_id")
    op.drop_column("agreements", "conditions")
    op.drop_column("agreements", "export_control")
    op.drop_column("agreements", "signatories")
    op.drop_index(op.f("ix_signatures_agreement_id"), table_name="signatures")
    op.drop_table("signatures")
    op.drop_index("ix_obligations_status_due", table_name="obligations")
    op.drop_index("ix_obligations_agreement_due", table_name="obligations")
    op.drop_table("obligations")
    op.drop_table("screening_clearances")
    op.drop_index("ix_ip_licenses_asset_active", table_name="ip_licenses")
    op.drop_index(op.f("ix_ip_licenses_agreement_id"), table_name="ip_licenses")
    op.drop_table("ip_licenses")
    op.drop_index("ix_findings_agreement_round", table_name="findings")
    op.drop_table("findings")
    op.drop_table("agreement_documents")
    op.drop_table("ip_assets")
    op.drop_index(op.f("ix_screening_lists_loaded_at"), table_name="screening_lists")
    op.drop_table("screening_lists")
    op.drop_table("screening_entries")
