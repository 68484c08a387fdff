"""The change feed: an `events` table written by triggers in the changing transaction.

Every committed change to a list or a todo leaves an event, whatever code made it, because
the database writes it: row-level triggers on `todo_lists` (one list per operation) and
statement-level triggers with transition tables on `todos`, so a statement that touches
many todos (toggle all, clear completed, a move that shifts its neighbours, a bulk create)
records ONE event per list it touched, not one per row. Past 100 todos in one list the event
carries `refetch` instead of their states. A todo moving to another list is reported to both.
Each trigger wakes the listeners with NOTIFY (delivered at commit, never for a rollback).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TODO_EVENTS = """
CREATE FUNCTION todoapp_todo_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb;  -- [[list_id, state], ...]: the todos this statement changed, per list
    newest bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_array(n.list_id, to_jsonb(n) - 'search')) INTO changed
        FROM new_rows n;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT jsonb_agg(jsonb_build_array(c.list_id, c.state)) INTO changed FROM (
            SELECT n.list_id, to_jsonb(n) - 'search' AS state FROM new_rows n
            UNION ALL  -- a todo that moved to another list leaves the old one: tell it too
            SELECT o.list_id, to_jsonb(n) - 'search' FROM new_rows n JOIN old_rows o USING (id)
            WHERE o.list_id <> n.list_id
        ) c;
    ELSE
        SELECT jsonb_agg(jsonb_build_array(o.list_id, to_jsonb(o) - 'search')) INTO changed
        FROM old_rows o
        -- The todos of a deleted list (ON DELETE CASCADE) go with it: list.deleted says so.
        WHERE EXISTS (SELECT FROM todo_lists l WHERE l.id = o.list_id);
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;  -- the statement changed no row
    END IF;
    WITH inserted AS (
        INSERT INTO events (kind, list_id, payload)
        SELECT CASE TG_OP WHEN 'INSERT' THEN 'todos.created'
                          WHEN 'UPDATE' THEN 'todos.updated' ELSE 'todos.deleted' END,
               (c->>0)::bigint,
               CASE WHEN count(*) > 100 THEN jsonb_build_object('refetch', true, 'count', count(*))
                    ELSE jsonb_build_object('todos', jsonb_agg(c->1
                        ORDER BY (c->1->>'position')::int, (c->1->>'id')::bigint)) END
        FROM jsonb_array_elements(changed) c
        GROUP BY 2 ORDER BY 2
        RETURNING id
    )
    SELECT max(id) INTO newest FROM inserted;
    PERFORM pg_notify('todoapp_events', newest::text);
    RETURN NULL;
END $$
"""

LIST_EVENTS = """
CREATE FUNCTION todoapp_list_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_list todo_lists;
    newest bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN changed_list := OLD; ELSE changed_list := NEW; END IF;
    INSERT INTO events (kind, list_id, payload)
    SELECT CASE TG_OP WHEN 'INSERT' THEN 'list.created'
                      WHEN 'UPDATE' THEN 'list.updated' ELSE 'list.deleted' END,
           changed_list.id,
           jsonb_build_object('list', to_jsonb(changed_list) - 'last_position'
               || jsonb_build_object(
                   'active_count', count(*) FILTER (WHERE NOT t.completed),
                   'completed_count', count(*) FILTER (WHERE t.completed)))
    FROM (SELECT completed FROM todos WHERE list_id = changed_list.id) t
    RETURNING id INTO newest;
    PERFORM pg_notify('todoapp_events', newest::text);
    RETURN NULL;
END $$
"""

TRIGGERS = (
    # Transition tables allow one event per trigger, hence three on todos.
    "CREATE TRIGGER todos_events_insert AFTER INSERT ON todos REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION todoapp_todo_events()",
    "CREATE TRIGGER todos_events_update AFTER UPDATE ON todos "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION todoapp_todo_events()",
    "CREATE TRIGGER todos_events_delete AFTER DELETE ON todos REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION todoapp_todo_events()",
    "CREATE TRIGGER todo_lists_events AFTER INSERT OR DELETE ON todo_lists "
    "FOR EACH ROW EXECUTE FUNCTION todoapp_list_events()",
    # Appends and moves raise a list's last_position, which is no change of the list itself:
    # only a new version is. The WHEN is checked without calling the function.
    "CREATE TRIGGER todo_lists_events_update AFTER UPDATE ON todo_lists FOR EACH ROW "
    "WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION todoapp_list_events()",
)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text::bigint)"),
            nullable=False,
        ),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("list_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "payload",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.clock_timestamp(),
            nullable=False,
        ),
    )
    op.create_index("ix_events_xid_id", "events", ["xid", "id"])
    op.execute(TODO_EVENTS)
    op.execute(LIST_EVENTS)
    for trigger in TRIGGERS:
        op.execute(trigger)
    # The feed's first position: a resume always names an event that exists (see
    # backend/live/feed.py), and the pruner always keeps the newest one.
    op.execute("INSERT INTO events (kind) VALUES ('feed.started')")


def downgrade() -> None:
    op.execute("DROP TRIGGER todo_lists_events_update ON todo_lists")
    op.execute("DROP TRIGGER todo_lists_events ON todo_lists")
    for action in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER todos_events_{action} ON todos")
    op.execute("DROP FUNCTION todoapp_list_events()")
    op.execute("DROP FUNCTION todoapp_todo_events()")
    op.drop_index("ix_events_xid_id", table_name="events")
    op.drop_table("events")
