"""auth: users, roles, sessions, API tokens

Revision ID: 0004_auth
Revises: 0003_dispatch
"""

import sqlalchemy as sa

from alembic import op

revision = "0004_auth"
down_revision = '0003_dispatch'
branch_labels = None
depends_on = None

ROLES = ("dispatcher", "agency", "planner", "viewer", "admin")


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency_code", sa.String(32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_app_user"),
        sa.UniqueConstraint("username", name="uq_app_user_username"),
        sa.CheckConstraint("role IN ('" + "','".join(ROLES) + "')", name="ck_app_user_role"),
        sa.CheckConstraint("role <> 'agency' OR agency_code IS NOT NULL",
                           name="ck_app_user_agency_bound"),
    )
    op.create_table(
        "auth_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_auth_token"),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], ondelete="CASCADE",
                                name="fk_auth_token_user_id_app_user"),
        sa.UniqueConstraint("token_hash", name="uq_auth_token_token_hash"),
        sa.CheckConstraint("kind IN ('session','api')", name="ck_auth_token_kind"),
    )
    op.create_index("ix_auth_token_user_id", "auth_token", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_auth_token_user_id", table_name="auth_token")
    op.drop_table("auth_token")
    op.drop_table("app_user")
