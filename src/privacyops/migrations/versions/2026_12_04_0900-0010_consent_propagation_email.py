"""consent: opt-outs mailed to partners (instructions owned by a propagation task), staff notes

Revision ID: 0010_propagation_email
Revises: 0009_propagation
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_propagation_email"
down_revision: str | None = "0009_propagation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processor_instructions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("propagation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_processor_instructions_propagation_id_consent_propagations"),
            "consent_propagations",
            ["propagation_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_processor_instructions_propagation_id"),
            ["propagation_id", "datastore", "operation", "collection"],
        )
        batch_op.create_index(
            batch_op.f("ix_processor_instructions_propagation_id"),
            ["propagation_id"],
            unique=False,
        )
    with op.batch_alter_table("consent_propagations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_ciphertext", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent_propagations", schema=None) as batch_op:
        batch_op.drop_column("note_ciphertext")
    with op.batch_alter_table("processor_instructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processor_instructions_propagation_id"))
        batch_op.drop_constraint(
            batch_op.f("uq_processor_instructions_propagation_id"), type_="unique"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_processor_instructions_propagation_id_consent_propagations"),
            type_="foreignkey",
        )
        batch_op.drop_column("propagation_id")
