"""Holes in crowded lists: space out the lists whose todos sit at consecutive positions.

Positions used to be handed out one after another (1, 2, 3, ...). Since an insert makes
room by moving the todos in its way up to the next hole (backend/data/positions.py), a list
with a long stretch without holes would pay for spreading that stretch out on its first
insert there: for 100,000 todos, seconds inside one request. This does it here instead, for
the lists with a stretch of more than 32 (positions.RUN_LIMIT) todos: their todos get the
positions appends leave now, 1000 apart (less in lists too long for that below the highest
order a client may send, 1,000,000,000), in the same order. Shorter lists keep theirs.

Moved todos get a new version (their `order`, hence their ETag, changed); `updated_at` stays,
since no one edited them.

Downgrade: nothing to undo. The previous revision's code takes positions with holes (deletes
always left some), so the data is valid at either revision; and an upgrade after a downgrade
finds no crowded list left, so it changes nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values of backend/data/positions.py and domain/limits.py when this was written.
RUN_LIMIT = 32
GAP = 1000
MAX_ORDER = 1_000_000_000


def upgrade() -> None:
    op.execute(
        f"""
        WITH islands AS (  -- todos at consecutive positions share position - rank
            SELECT list_id,
                   position - row_number() OVER (PARTITION BY list_id ORDER BY position) AS island
            FROM todos
        ), crowded AS (
            SELECT DISTINCT list_id FROM islands
            GROUP BY list_id, island HAVING count(*) > {RUN_LIMIT}
        ), ranked AS (
            SELECT t.id,
                   row_number() OVER (PARTITION BY t.list_id ORDER BY t.position, t.id) AS rank,
                   count(*) OVER (PARTITION BY t.list_id) AS todos
            FROM todos t JOIN crowded c ON c.list_id = t.list_id
        )
        UPDATE todos
        SET position = r.rank * greatest(1, least({GAP}, {MAX_ORDER} / r.todos)),
            version = todos.version + 1
        FROM ranked r
        WHERE todos.id = r.id
        """
    )
    op.execute(
        "UPDATE todo_lists l SET last_position = greatest(l.last_position, "
        "(SELECT max(t.position) FROM todos t WHERE t.list_id = l.id)) "
        "WHERE EXISTS (SELECT FROM todos t WHERE t.list_id = l.id)"
    )


def downgrade() -> None:
    pass  # see the module's docstring
