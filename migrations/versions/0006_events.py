"""The change feed: an `events` table written by triggers in the changing transaction.

Every committed change to a list or a todo leaves an event, whatever code made it, because
the database writes it: row-level triggers on `todo_lists` (one list per operation) and
statement-level triggers with transition tables on `todos`, so a statement that touches
many todos (toggle all, clear completed, a move that shifts its neighbours, a bulk create)
records ONE event per list and kind it touched, not one per row. Past 100 todos in one list
the event carries `refetch` instead of their states. A todo moving to another list is
reported to both. A trip to the trash (migration 0003) is a deletion, a restore a creation;
what happens inside the trash (a purge, positions shifting) is nobody's news, and neither is
a todo of a list in the trash (the list's own event says it all). Sharing a list, changing
a member's role and taking it away (list_members, migration 0005) are events of their own.
Each trigger wakes the listeners with NOTIFY (delivered at commit, never for a rollback).

Every event records its audience, in the same transaction: who could see its list at that
moment (the owner and the members, each with their role). A stream sends an event only to
the users of its audience, so no one ever gets an event of a list they could not see then,
live or on resume; a member removed is in the audience of the removal only, a member added
is in that of every event after the sharing.

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

AUDIENCE = """
CREATE FUNCTION todoapp_audience(list bigint, owner bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(jsonb_object_agg(a.user_id::text, a.role), '{}'::jsonb) FROM (
        SELECT owner AS user_id, 'owner' AS role WHERE owner IS NOT NULL
        UNION ALL
        SELECT user_id, role FROM list_members WHERE list_id = list
    ) a
$$
"""

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
        INSERT INTO events (kind, list_id, payload, audience)
        SELECT g.kind, g.list_id, g.payload, todoapp_audience(g.list_id, g.owner_id)
        FROM (
            SELECT c->>0 AS kind, l.id AS list_id, l.owner_id,
                   CASE WHEN count(*) > 100
                        THEN jsonb_build_object('refetch', true, 'count', count(*))
                        ELSE jsonb_build_object('todos', jsonb_agg(c->2
                            ORDER BY (c->2->>'position')::int, (c->2->>'id')::bigint)) END
                   AS payload
            FROM jsonb_array_elements(changed) c
            -- Only lists outside the trash: a list's deletion (ON DELETE CASCADE, or into
            -- the trash) and its restore are one list event each, its todos included.
            JOIN todo_lists l ON l.id = (c->>1)::bigint AND l.deleted_at IS NULL
            GROUP BY 1, 2, 3
        ) g
        ORDER BY g.list_id, g.kind
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
    INSERT INTO events (kind, list_id, payload, audience)
    SELECT kind, changed_list.id,
           jsonb_build_object('list', to_jsonb(changed_list) - 'last_position' - 'owner_id'
               || jsonb_build_object(
                   'owner', (SELECT username FROM users WHERE id = changed_list.owner_id),
                   'active_count', count(*) FILTER (WHERE NOT t.completed),
                   'completed_count', count(*) FILTER (WHERE t.completed))),
           -- (a list deleted with its owner's account: its members are gone already, and
           -- each had a membership.removed)
           todoapp_audience(changed_list.id, changed_list.owner_id)
    FROM (
        SELECT completed FROM todos WHERE list_id = changed_list.id AND deleted_at IS NULL
    ) t
    RETURNING id INTO newest;
    PERFORM pg_notify('todoapp_events', newest::text);
    RETURN NULL;
END $$
"""

MEMBER_EVENTS = """
CREATE FUNCTION todoapp_member_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    m list_members;
    owner bigint;
    newest bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        kind := 'membership.added'; m := NEW;
    ELSIF TG_OP = 'UPDATE' THEN
        kind := 'membership.updated'; m := NEW;
    ELSE
        kind := 'membership.removed'; m := OLD;
    END IF;
    -- (none when the list itself is being deleted, its members with it)
    SELECT owner_id INTO owner FROM todo_lists WHERE id = m.list_id;
    INSERT INTO events (kind, list_id, payload, audience)
    VALUES (
        kind, m.list_id,
        jsonb_build_object('member', jsonb_build_object(
            'username', (SELECT username FROM users WHERE id = m.user_id), 'role', m.role)),
        -- the member concerned, also when they have just been removed
        todoapp_audience(m.list_id, owner) || jsonb_build_object(m.user_id::text, m.role)
    )
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
    # A new owner (`todoapp users claim`) changes who may see it: a list.updated too.
    "CREATE TRIGGER todo_lists_events_update AFTER UPDATE ON todo_lists FOR EACH ROW "
    "WHEN (OLD.version IS DISTINCT FROM NEW.version OR OLD.deleted_at IS DISTINCT FROM "
    "NEW.deleted_at OR OLD.owner_id IS DISTINCT FROM NEW.owner_id) "
    "EXECUTE FUNCTION todoapp_list_events()",
    "CREATE TRIGGER list_members_events AFTER INSERT OR DELETE ON list_members "
    "FOR EACH ROW EXECUTE FUNCTION todoapp_member_events()",
    "CREATE TRIGGER list_members_events_update AFTER UPDATE ON list_members FOR EACH ROW "
    "WHEN (OLD.role IS DISTINCT FROM NEW.role) EXECUTE FUNCTION todoapp_member_events()",
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
        ),  # {"<user id>": "owner" | "editor" | "viewer"}: who may receive it
        sa.Column("audience", postgresql.JSONB(), nullable=True),
    )
    op.create_index("ix_events_xid_id", "events", ["xid", "id"])
    op.execute(AUDIENCE)
    op.execute(TODO_EVENTS)
    op.execute(LIST_EVENTS)
    op.execute(MEMBER_EVENTS)
    for trigger in TRIGGERS:
        op.execute(trigger)
    # The feed's first position: a resume always names an event that exists (see
    # backend/live/feed.py), and the pruner always keeps the newest one. No audience: no
    # stream sends it.
    op.execute("INSERT INTO events (kind) VALUES ('feed.started')")


def downgrade() -> None:
    op.execute("DROP TRIGGER list_members_events_update ON list_members")
    op.execute("DROP TRIGGER list_members_events ON list_members")
    op.execute("DROP TRIGGER todo_lists_events_update ON todo_lists")
    op.execute("DROP TRIGGER todo_lists_events ON todo_lists")
    for action in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER todos_events_{action} ON todos")
    op.execute("DROP FUNCTION todoapp_list_events()")
    op.execute("DROP FUNCTION todoapp_todo_events()")
    op.execute("DROP FUNCTION todoapp_member_events()")
    op.execute("DROP FUNCTION todoapp_audience(bigint, bigint)")
    op.drop_index("ix_events_xid_id", table_name="events")
    op.drop_table("events")
