"""The change feed: an `events` table written by triggers in the changing transaction.

Every committed change to a list or a todo leaves an event, whatever code made it, because
the database writes it: row-level triggers on `todo_lists` (one list per operation) and
statement-level triggers with transition tables on `todos`, so a statement that touches
many todos (toggle all, clear completed, a move that shifts its neighbours, a bulk create)
records ONE event per list and kind it touched, not one per row. Past 100 todos in one list
the event carries `refetch` instead of their states. A todo moving to another list is
reported to both. A trip to the trash (migration 0003) is a deletion, a restore a creation;
what happens inside the trash (a purge, positions shifting) is nobody's news, and neither is
a todo of a list in the trash (the list's own event says it all). Each trigger wakes the
listeners with NOTIFY (delivered at commit, never for a rollback).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TODO_EVENTS = """
CREATE FUNCTION todoapp_todo_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb;  -- [[kind, list_id, state], ...]: what this statement changed, per list
    newest bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_array('todos.created', n.list_id, to_jsonb(n) - 'search'))
        INTO changed FROM new_rows n WHERE n.deleted_at IS NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT jsonb_agg(jsonb_build_array(c.kind, c.list_id, c.state)) INTO changed FROM (
            SELECT CASE WHEN o.deleted_at IS NULL AND n.deleted_at IS NULL THEN 'todos.updated'
                        WHEN o.deleted_at IS NULL THEN 'todos.deleted'  -- into the trash
                        ELSE 'todos.created' END AS kind,               -- back from it
                   n.list_id, to_jsonb(n) - 'search' AS state
            FROM new_rows n JOIN old_rows o USING (id)
            WHERE o.deleted_at IS NULL OR n.deleted_at IS NULL  -- (in the trash: no news)
            UNION ALL  -- a todo that moved to another list leaves the old one: tell it too
            SELECT 'todos.updated', o.list_id, to_jsonb(n) - 'search'
            FROM new_rows n JOIN old_rows o USING (id)
            WHERE o.list_id <> n.list_id AND o.deleted_at IS NULL AND n.deleted_at IS NULL
        ) c;
    ELSE  -- the purge: what it deletes was in the trash already, unless a list's todos
        SELECT jsonb_agg(jsonb_build_array('todos.deleted', o.list_id, to_jsonb(o) - 'search'))
        INTO changed FROM old_rows o WHERE o.deleted_at IS NULL;
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;  -- the statement changed nothing anyone can see
    END IF;
    WITH inserted AS (
        INSERT INTO events (kind, list_id, payload)
        SELECT c->>0, (c->>1)::bigint,
               CASE WHEN count(*) > 100 THEN jsonb_build_object('refetch', true, 'count', count(*))
                    ELSE jsonb_build_object('todos', jsonb_agg(c->2
                        ORDER BY (c->2->>'position')::int, (c->2->>'id')::bigint)) END
        FROM jsonb_array_elements(changed) c
        -- Only lists outside the trash: a list's deletion (ON DELETE CASCADE, or into the
        -- trash) and its restore are one list event each, its todos included.
        WHERE EXISTS (
            SELECT FROM todo_lists l WHERE l.id = (c->>1)::bigint AND l.deleted_at IS NULL
        )
        GROUP BY 1, 2 ORDER BY 2, 1
        RETURNING id
    )
    SELECT max(id) INTO newest FROM inserted;
    IF newest IS NOT NULL THEN
        PERFORM pg_notify('todoapp_events', newest::text);
    END IF;
    RETURN NULL;
END $$
"""

LIST_EVENTS = """
CREATE FUNCTION todoapp_list_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    changed_list todo_lists;
    newest bigint;
BEGIN
    IF TG_OP = 'INSERT' AND NEW.deleted_at IS NULL THEN
        kind := 'list.created'; changed_list := NEW;
    ELSIF TG_OP = 'DELETE' AND OLD.deleted_at IS NULL THEN  -- (the purge of the trash: no news)
        kind := 'list.deleted'; changed_list := OLD;
    ELSIF TG_OP = 'UPDATE' AND OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        kind := 'list.deleted'; changed_list := NEW;  -- into the trash, its todos with it
    ELSIF TG_OP = 'UPDATE' AND OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
        kind := 'list.created'; changed_list := NEW;  -- back from the trash
    ELSIF TG_OP = 'UPDATE' AND NEW.deleted_at IS NULL THEN
        kind := 'list.updated'; changed_list := NEW;
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO events (kind, list_id, payload)
    SELECT kind, changed_list.id,
           jsonb_build_object('list', to_jsonb(changed_list) - 'last_position'
               || jsonb_build_object(
                   'active_count', count(*) FILTER (WHERE NOT t.completed),
                   'completed_count', count(*) FILTER (WHERE t.completed)))
    FROM (
        SELECT completed FROM todos WHERE list_id = changed_list.id AND deleted_at IS NULL
    ) t
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
    # only a new version or a trip to the trash is. The WHEN costs no call of the function.
    "CREATE TRIGGER todo_lists_events_update AFTER UPDATE ON todo_lists FOR EACH ROW "
    "WHEN (OLD.version IS DISTINCT FROM NEW.version OR OLD.deleted_at IS DISTINCT FROM "
    "NEW.deleted_at) EXECUTE FUNCTION todoapp_list_events()",
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
