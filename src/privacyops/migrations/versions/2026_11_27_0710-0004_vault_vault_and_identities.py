"""vault secrets, data subjects and their identities

Revision ID: 0004_vault
Revises: 0003_staff
Create Date: 2026-11-27 07:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_vault"
down_revision: str | None = "0003_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_subjects",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shredded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subjects")),
    )
    op.create_table(
        "subject_identities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("blind_index", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_subject_identities_subject_id_data_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_identities")),
        sa.UniqueConstraint("blind_index", "kind", name=op.f("uq_subject_identities_blind_index")),
    )
    with op.batch_alter_table("subject_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_identities_subject_id"), ["subject_id"], unique=False
        )
    op.create_table(
        "vault_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_secrets")),
        sa.UniqueConstraint("name", name=op.f("uq_vault_secrets_name")),
    )
    with op.batch_alter_table("vault_secrets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vault_secrets_key_id"), ["key_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vault_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vault_secrets_key_id"))
    op.drop_table("vault_secrets")
    with op.batch_alter_table("subject_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_identities_subject_id"))
    op.drop_table("subject_identities")
    op.drop_table("data_subjects")
