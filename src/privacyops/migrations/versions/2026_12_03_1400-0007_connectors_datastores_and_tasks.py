"""connectors: datastores, request collection tasks, access packages, legal holds, instructions

Revision ID: 0007_connectors
Revises: 0006_reports
Create Date: 2026-12-03 13:59:04.280988
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_connectors"
down_revision: str | None = "0006_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "datastores",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("declarations", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_datastores")),
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("placed_by", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_legal_holds_subject_id_data_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "dsr_access_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("content_ciphertext", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_dsr_access_packages_request_id_dsr_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_access_packages")),
        sa.UniqueConstraint("request_id", "format", name=op.f("uq_dsr_access_packages_request_id")),
    )
    with op.batch_alter_table("dsr_access_packages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dsr_access_packages_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dsr_access_packages_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "dsr_collection_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("collection", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("state_ciphertext", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_dsr_collection_tasks_request_id_dsr_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_collection_tasks")),
        sa.UniqueConstraint(
            "request_id",
            "phase",
            "dataset",
            "collection",
            name=op.f("uq_dsr_collection_tasks_request_id"),
        ),
    )
    with op.batch_alter_table("dsr_collection_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dsr_collection_tasks_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dsr_collection_tasks_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dsr_collection_tasks_status"), ["status"], unique=False
        )

    op.create_table(
        "processor_instructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=True),
        sa.Column("datastore", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("collection", sa.String(length=200), nullable=False),
        sa.Column("token_hmac", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_processor_instructions_request_id_dsr_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_instructions")),
        sa.UniqueConstraint(
            "request_id",
            "datastore",
            "operation",
            "collection",
            name=op.f("uq_processor_instructions_request_id"),
        ),
        sa.UniqueConstraint("token_hmac", name=op.f("uq_processor_instructions_token_hmac")),
    )
    with op.batch_alter_table("processor_instructions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processor_instructions_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("processor_instructions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processor_instructions_request_id"))

    op.drop_table("processor_instructions")
    with op.batch_alter_table("dsr_collection_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_collection_tasks_status"))
        batch_op.drop_index(batch_op.f("ix_dsr_collection_tasks_request_id"))
        batch_op.drop_index(batch_op.f("ix_dsr_collection_tasks_next_attempt_at"))

    op.drop_table("dsr_collection_tasks")
    with op.batch_alter_table("dsr_access_packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_access_packages_request_id"))
        batch_op.drop_index(batch_op.f("ix_dsr_access_packages_expires_at"))

    op.drop_table("dsr_access_packages")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_subject_id"))

    op.drop_table("legal_holds")
    op.drop_table("datastores")
