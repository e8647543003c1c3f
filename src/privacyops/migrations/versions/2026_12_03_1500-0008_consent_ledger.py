"""consent: the append-only ledger of choices and the current decision per person or browser

Revision ID: 0008_consent
Revises: 0007_connectors
Create Date: 2026-12-03 14:34:04.696573
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_consent"
down_revision: str | None = "0007_connectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=True),
        sa.Column("browser_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=2), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("wording", sa.Text(), nullable=True),
        sa.Column("wording_sha256", sa.String(length=64), nullable=True),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("list_key", sa.String(length=100), nullable=True),
        sa.Column("overrides_record", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_consent_records_subject_id_data_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_records_browser_id"), ["browser_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_records_recorded_at"), ["recorded_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_records_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "consent_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=True),
        sa.Column("browser_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["consent_records.id"],
            name=op.f("fk_consent_decisions_record_id_consent_records"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_consent_decisions_subject_id_data_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_decisions")),
        sa.UniqueConstraint("browser_id", "purpose", name=op.f("uq_consent_decisions_browser_id")),
        sa.UniqueConstraint("subject_id", "purpose", name=op.f("uq_consent_decisions_subject_id")),
    )
    with op.batch_alter_table("consent_decisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_decisions_purpose_allowed", ["purpose", "allowed"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("consent_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_decisions_purpose_allowed")

    op.drop_table("consent_decisions")
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_records_subject_id"))
        batch_op.drop_index(batch_op.f("ix_consent_records_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_consent_records_browser_id"))

    op.drop_table("consent_records")
