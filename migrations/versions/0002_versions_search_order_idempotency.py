"""Versions (ETags), full-text search, unique positions per list, idempotency keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("todo_lists", "todos"):
        op.add_column(
            table, sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )

    # Positions become unique per list. Rows that share a position keep their relative order
    # and move to the end of their list; every other position stays as it was.
    op.execute(
        """
        WITH dups AS (
            SELECT id, list_id,
                   row_number() OVER (PARTITION BY list_id, position ORDER BY id) AS nth
            FROM todos
        ), moved AS (
            SELECT d.id,
                   (SELECT max(position) FROM todos t WHERE t.list_id = d.list_id)
                   + row_number() OVER (PARTITION BY d.list_id ORDER BY d.id) AS position
            FROM dups d WHERE d.nth > 1
        )
        UPDATE todos SET position = moved.position FROM moved WHERE todos.id = moved.id
        """
    )
    op.drop_index("ix_todos_list_id_position", table_name="todos")
    op.create_unique_constraint(
        "todos_list_id_position_key",
        "todos",
        ["list_id", "position"],
        deferrable=True,
        initially="DEFERRED",
    )
    op.add_column(
        "todo_lists",
        sa.Column("last_position", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(
        "UPDATE todo_lists l SET last_position = "
        "coalesce((SELECT max(position) FROM todos t WHERE t.list_id = l.id), 0)"
    )

    op.add_column(
        "todos",
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english', title)", persisted=True),
            nullable=True,
        ),
    )
    op.create_index("ix_todos_search", "todos", ["search"], postgresql_using="gin")
    op.create_index("ix_todos_position_id", "todos", ["position", "id"])
    op.create_index("ix_todos_created_at_id", "todos", ["created_at", "id"])
    op.create_index("ix_todos_updated_at_id", "todos", ["updated_at", "id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_todos_updated_at_id", table_name="todos")
    op.drop_index("ix_todos_created_at_id", table_name="todos")
    op.drop_index("ix_todos_position_id", table_name="todos")
    op.drop_index("ix_todos_search", table_name="todos")
    op.drop_column("todos", "search")
    op.drop_column("todo_lists", "last_position")
    op.drop_constraint("todos_list_id_position_key", "todos", type_="unique")
    op.create_index("ix_todos_list_id_position", "todos", ["list_id", "position"])
    op.drop_column("todos", "version")
    op.drop_column("todo_lists", "version")
