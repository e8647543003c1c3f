"""consent: opt-outs passed on to partners, tracked like tasks (15 business days)

Revision ID: 0009_propagation
Revises: 0008_consent
Create Date: 2026-12-03 14:58:14.559924
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_propagation"
down_revision: str | None = "0008_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "consent_propagations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("datastore", sa.String(length=100), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["consent_records.id"],
            name=op.f("fk_consent_propagations_record_id_consent_records"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_consent_propagations_subject_id_data_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_propagations")),
        sa.UniqueConstraint(
            "record_id", "datastore", "kind", name=op.f("uq_consent_propagations_record_id")
        ),
    )
    with op.batch_alter_table("consent_propagations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_propagations_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_propagations_status"), ["status"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("consent_propagations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_propagations_status"))
        batch_op.drop_index(batch_op.f("ix_consent_propagations_record_id"))

    op.drop_table("consent_propagations")
