"""Lists and todos, with the default list "Inbox".

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "todo_lists",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "char_length(btrim(name)) BETWEEN 1 AND 200", name="todo_lists_name_check"
        ),
        sa.UniqueConstraint("name", name="todo_lists_name_key"),
    )
    op.create_table(
        "todos",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "list_id",
            sa.BigInteger(),
            sa.ForeignKey("todo_lists.id", ondelete="CASCADE", name="todos_list_id_fkey"),
            nullable=False,
        ),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("completed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("char_length(btrim(title)) BETWEEN 1 AND 500", name="todos_title_check"),
    )
    op.create_index("ix_todos_list_id_position", "todos", ["list_id", "position"])
    op.execute("INSERT INTO todo_lists (name) VALUES ('Inbox')")


def downgrade() -> None:
    op.drop_table("todos")
    op.drop_table("todo_lists")
