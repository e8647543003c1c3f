"""rights requests: requests, identities, codes, events, tasks, tallies; outgoing mail

Revision ID: 0005_dsr
Revises: 0004_vault
Create Date: 2026-11-27 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_dsr"
down_revision: str | None = "0004_vault"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dsr_request_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("denial_reason", sa.String(length=40), nullable=True),
        sa.Column("days_to_response", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_request_tallies")),
    )
    with op.batch_alter_table("dsr_request_tallies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dsr_request_tallies_received_on"), ["received_on"], unique=False
        )

    op.create_table(
        "dsr_requests",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extended_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("verification", sa.String(length=16), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_soon_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("denial_reason", sa.String(length=40), nullable=True),
        sa.Column("denial_detail_ciphertext", sa.Text(), nullable=True),
        sa.Column("appeal_of", sa.String(length=16), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("rules_snapshot", sa.JSON(), nullable=False),
        sa.Column("payload_ciphertext", sa.Text(), nullable=True),
        sa.Column("evidence_ciphertext", sa.Text(), nullable=True),
        sa.Column("via_agent", sa.Boolean(), nullable=False),
        sa.Column("specific_pieces", sa.Boolean(), nullable=False),
        sa.Column("sensitive_deletion", sa.Boolean(), nullable=False),
        sa.Column("access_format", sa.String(length=16), nullable=True),
        sa.Column("idempotency_hash", sa.String(length=64), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=True),
        sa.Column("entered_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_of"],
            ["dsr_requests.id"],
            name=op.f("fk_dsr_requests_appeal_of_dsr_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["data_subjects.id"],
            name=op.f("fk_dsr_requests_subject_id_data_subjects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_requests")),
        sa.UniqueConstraint("idempotency_hash", name=op.f("uq_dsr_requests_idempotency_hash")),
    )
    with op.batch_alter_table("dsr_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dsr_requests_appeal_of"), ["appeal_of"], unique=False)
        batch_op.create_index(batch_op.f("ix_dsr_requests_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dsr_requests_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_dsr_requests_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_dsr_requests_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dsr_requests_subject_id"), ["subject_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dsr_requests_type"), ["type"], unique=False)

    op.create_table(
        "dsr_request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("note_ciphertext", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_dsr_request_events_request_id_dsr_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_request_events")),
    )
    with op.batch_alter_table("dsr_request_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dsr_request_events_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "dsr_request_identities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("blind_index", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_dsr_request_identities_request_id_dsr_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_request_identities")),
        sa.UniqueConstraint(
            "request_id", "kind", name=op.f("uq_dsr_request_identities_request_id")
        ),
    )
    with op.batch_alter_table("dsr_request_identities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dsr_request_identities_blind_index"), ["blind_index"], unique=False
        )

    op.create_table(
        "dsr_request_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result_ciphertext", sa.Text(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_dsr_request_tasks_request_id_dsr_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_request_tasks")),
    )
    with op.batch_alter_table("dsr_request_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dsr_request_tasks_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("to_ciphertext", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("text_ciphertext", sa.Text(), nullable=True),
        sa.Column("html_ciphertext", sa.Text(), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_outgoing_mail_request_id_dsr_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
    )
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outgoing_mail_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outgoing_mail_status"), ["status"], unique=False)

    op.create_table(
        "dsr_verification_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=False),
        sa.Column("identity_id", sa.String(length=36), nullable=False),
        sa.Column("code_hmac", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["dsr_request_identities.id"],
            name=op.f("fk_dsr_verification_codes_identity_id_dsr_request_identities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["dsr_requests.id"],
            name=op.f("fk_dsr_verification_codes_request_id_dsr_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsr_verification_codes")),
        sa.UniqueConstraint("identity_id", name=op.f("uq_dsr_verification_codes_identity_id")),
    )
    with op.batch_alter_table("dsr_verification_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dsr_verification_codes_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dsr_verification_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_verification_codes_request_id"))

    op.drop_table("dsr_verification_codes")
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_status"))
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_request_id"))

    op.drop_table("outgoing_mail")
    with op.batch_alter_table("dsr_request_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_request_tasks_request_id"))

    op.drop_table("dsr_request_tasks")
    with op.batch_alter_table("dsr_request_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_request_identities_blind_index"))

    op.drop_table("dsr_request_identities")
    with op.batch_alter_table("dsr_request_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_request_events_request_id"))

    op.drop_table("dsr_request_events")
    with op.batch_alter_table("dsr_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_requests_type"))
        batch_op.drop_index(batch_op.f("ix_dsr_requests_subject_id"))
        batch_op.drop_index(batch_op.f("ix_dsr_requests_status"))
        batch_op.drop_index(batch_op.f("ix_dsr_requests_state"))
        batch_op.drop_index(batch_op.f("ix_dsr_requests_due_at"))
        batch_op.drop_index(batch_op.f("ix_dsr_requests_closed_at"))
        batch_op.drop_index(batch_op.f("ix_dsr_requests_appeal_of"))

    op.drop_table("dsr_requests")
    with op.batch_alter_table("dsr_request_tallies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dsr_request_tallies_received_on"))

    op.drop_table("dsr_request_tallies")
