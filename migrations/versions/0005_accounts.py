"""Accounts: users, sessions, access tokens, list owners and members, sign-in failures.

Every list gets an owner. Lists that exist before this revision belong to the implicit user
(id 0, no username), who is who AUTH=off acts as; the first account created takes them over
(or `todoapp users claim USERNAME`). List names become unique per owner.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _created_at() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def _user_id(name: str, **kwargs: object) -> sa.Column:
    return sa.Column(
        "user_id",
        sa.BigInteger(),
        sa.ForeignKey("users.id", ondelete="CASCADE", name=name),
        nullable=False,
        **kwargs,
    )


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        _created_at(),
        sa.CheckConstraint("username ~ '^[A-Za-z0-9._-]{3,40}$'", name="users_username_check"),
        sa.CheckConstraint("(id = 0) = (username IS NULL)", name="users_implicit_check"),
    )
    op.create_index("users_username_key", "users", [sa.text("lower(username)")], unique=True)
    op.execute("INSERT INTO users (id, username) VALUES (0, NULL)")

    op.create_table(
        "sessions",
        sa.Column("secret_hash", sa.LargeBinary(), primary_key=True),
        _user_id("sessions_user_id_fkey"),
        _created_at(),
        sa.Column(
            "last_seen_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])

    op.create_table(
        "access_tokens",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _user_id("access_tokens_user_id_fkey"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(), nullable=False),
        _created_at(),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "char_length(btrim(name)) BETWEEN 1 AND 100", name="access_tokens_name_check"
        ),
        sa.UniqueConstraint("secret_hash", name="access_tokens_secret_hash_key"),
    )
    op.create_index("ix_access_tokens_user_id", "access_tokens", ["user_id"])

    op.create_table(
        "auth_failures",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_auth_failures_key_at", "auth_failures", ["key", "at"])

    # Existing lists belong to the implicit user.
    op.add_column(
        "todo_lists",
        sa.Column(
            "owner_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="todo_lists_owner_id_fkey"),
            server_default=sa.text("0"),
            nullable=False,
        ),
    )
    op.alter_column("todo_lists", "owner_id", server_default=None)
    # Unique per owner among the lists outside the trash (as before, among all of them).
    op.drop_index("todo_lists_name_key", table_name="todo_lists")
    op.create_index(
        "todo_lists_owner_id_name_key",
        "todo_lists",
        ["owner_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "list_members",
        sa.Column(
            "list_id",
            sa.BigInteger(),
            sa.ForeignKey("todo_lists.id", ondelete="CASCADE", name="list_members_list_id_fkey"),
            primary_key=True,
        ),
        _user_id("list_members_user_id_fkey", primary_key=True),
        sa.Column("role", sa.Text(), nullable=False),
        _created_at(),
        sa.CheckConstraint("role IN ('editor', 'viewer')", name="list_members_role_check"),
    )
    op.create_index("ix_list_members_user_id_list_id", "list_members", ["user_id", "list_id"])


def downgrade() -> None:
    """Back to one set of lists for everybody: accounts, sessions, tokens and shares go;
    the lists and todos stay. Names that two owners shared get their id appended, since
    names are unique again across all lists."""
    op.drop_table("list_members")
    op.execute(
        """
        UPDATE todo_lists l SET name = left(l.name, 180) || ' (' || l.id || ')'
        WHERE l.deleted_at IS NULL AND EXISTS (
            SELECT 1 FROM todo_lists o
            WHERE o.name = l.name AND o.id < l.id AND o.deleted_at IS NULL
        )
        """
    )
    op.drop_index("todo_lists_owner_id_name_key", table_name="todo_lists")
    op.create_index(
        "todo_lists_name_key",
        "todo_lists",
        ["name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_column("todo_lists", "owner_id")
    op.drop_table("auth_failures")
    op.drop_table("access_tokens")
    op.drop_table("sessions")
    op.drop_table("users")
