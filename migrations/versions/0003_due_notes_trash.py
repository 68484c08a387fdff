"""Due dates and notes on todos; a trash for deleted todos and lists (undo).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("todos", sa.Column("due", sa.Date(), nullable=True))
    op.add_column("todos", sa.Column("notes", sa.Text(), nullable=True))
    op.create_check_constraint("todos_notes_check", "todos", "char_length(notes) <= 10000")
    op.create_index("ix_todos_due_id", "todos", [sa.text("coalesce(due, 'infinity'::date)"), "id"])
    op.create_index(
        "ix_todos_due_desc_id", "todos", [sa.text("coalesce(due, '-infinity'::date)"), "id"]
    )

    for table in ("todo_lists", "todos"):
        op.add_column(table, sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        op.create_index(
            f"ix_{table}_deleted_at",
            table,
            ["deleted_at"],
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        )
    # A name is unique among the lists outside the trash.
    op.drop_constraint("todo_lists_name_key", "todo_lists", type_="unique")
    op.create_index(
        "todo_lists_name_key",
        "todo_lists",
        ["name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    # What is in the trash was deleted by its users: the older schema has no trash, so it
    # goes for good (restoring it instead would bring back what people deleted).
    op.execute("DELETE FROM todos WHERE deleted_at IS NOT NULL")
    op.execute("DELETE FROM todo_lists WHERE deleted_at IS NOT NULL")
    op.drop_index("todo_lists_name_key", table_name="todo_lists")
    op.create_unique_constraint("todo_lists_name_key", "todo_lists", ["name"])
    for table in ("todos", "todo_lists"):
        op.drop_index(f"ix_{table}_deleted_at", table_name=table)
        op.drop_column(table, "deleted_at")
    op.drop_index("ix_todos_due_desc_id", table_name="todos")
    op.drop_index("ix_todos_due_id", table_name="todos")
    op.drop_constraint("todos_notes_check", "todos", type_="check")
    op.drop_column("todos", "notes")
    op.drop_column("todos", "due")
