"""reports: the requester's state on request tallies (CCPA 7102(b) California-only figures)

Revision ID: 0006_reports
Revises: 0005_dsr
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_reports"
down_revision: str | None = "0005_dsr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dsr_request_tallies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dsr_request_tallies", schema=None) as batch_op:
        batch_op.drop_column("state")
