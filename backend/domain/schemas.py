"""Request and response shapes. The same pydantic models validate input and describe the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import available_timezones

import regex
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from .limits import (
    MAX_BULK,
    MAX_ORDER,
    NAME_MAX,
    NOTES_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TITLE_MAX,
    TOKEN_NAME_MAX,
    USERNAME_MAX,
    USERNAME_MIN,
)


@dataclass(frozen=True)
class Source:
    """On a response field: the stored column it shows, where the names differ."""

    column: str


# --- numbers: the ranges of the PostgreSQL columns they end up in ------------------------
# A value outside its column's range must be refused here, as bad input: if it reached the
# driver, asyncpg would fail to encode it half-way through a statement.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # integer (positions, versions)
BIGINT_MAX = 2**63 - 1  # bigint (ids)

Id = Annotated[StrictInt, Field(ge=1, le=BIGINT_MAX)]
Order = Annotated[StrictInt, Field(ge=1, le=MAX_ORDER)]
# A stored position (read back in a page cursor): anything the integer column can hold.
Position = Annotated[StrictInt, Field(ge=INT_MIN, le=INT_MAX)]

# Ids in text (paths, query strings) have ONE spelling: ASCII digits without sign, spaces or
# leading zeros. int() alone would also take "01", "+1", " 1", "1_0" and other scripts' digits
# (Arabic-Indic, full-width), so one todo would have many URLs.
CANONICAL_ID = re.compile(r"[1-9][0-9]{0,18}")


def parse_id(text: str) -> int | None:
    """The id a canonical decimal spelling names, or None (not canonical, or past bigint)."""
    if CANONICAL_ID.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= BIGINT_MAX else None


def _id_from_text(value: object) -> object:
    if isinstance(value, str):
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(
                f"must be an id from 1 to {BIGINT_MAX} in ASCII digits, without sign or "
                "leading zeros"
            )
        return parsed
    return value


IdParam = Annotated[int, Field(ge=1, le=BIGINT_MAX), BeforeValidator(_id_from_text)]


def _utc_representable(value: datetime) -> datetime:
    # The driver sends timestamptz in UTC: "0001-01-01T00:00:00+14:00" is year 0 there.
    if value.tzinfo is None:
        raise ValueError("must have a UTC offset")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    return value


Timestamp = Annotated[datetime, AfterValidator(_utc_representable)]

# --- text --------------------------------------------------------------------------------
# Characters that show nothing, by Unicode property (the `regex` module knows them):
# White_Space and the separators (Z*), Default_Ignorable_Code_Point (zero-width space and
# joiners, soft hyphen, word joiner, variation selectors, Hangul fillers, tag characters),
# controls (Cc) and format characters (Cf), and U+2800 BRAILLE PATTERN BLANK, which renders
# as a blank. Stripped from both ends of a title, name or search, as spaces are, so a text
# made only of them is empty. Inside a text they stay (a joiner can matter in an emoji), and
# so do variation selectors and tag characters at the end, which complete the character
# before them ("❤️" ends in U+FE0F, the flag of Scotland in tag characters).
INVISIBLE = r"\p{White_Space}\p{Z}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\u2800"
COMPLETES_PREVIOUS = r"\p{Variation_Selector}\U000E0020-\U000E007F"
# Two scans that stop at the first visible character from each end: linear, whatever the
# input (a pattern like `[...]+$` would be quadratic on a long run of invisible characters).
_FIRST_VISIBLE = regex.compile(f"[^{INVISIBLE}]")
_LAST_KEPT = regex.compile(f"(?r)[^{INVISIBLE}]|[{COMPLETES_PREVIOUS}]")


def visible_text(value: object) -> object:
    """Refuse NUL (PostgreSQL text cannot hold it); strip invisible characters at the ends."""
    if not isinstance(value, str):
        return value  # the str schema reports the wrong type
    if "\x00" in value:
        raise ValueError("may not contain the NUL character (U+0000)")
    first = _FIRST_VISIBLE.search(value)
    if first is None:
        return ""
    last = _LAST_KEPT.search(value, first.start())
    assert last is not None
    return value[first.start() : last.end()]


def Text(max_length: int) -> Any:
    """Text for the database: no NUL, trimmed of invisible characters, 1..max_length long."""
    return Annotated[
        str,
        StringConstraints(min_length=1, max_length=max_length),
        BeforeValidator(visible_text),  # runs first, then the length is checked
    ]


Title = Text(TITLE_MAX)
Name = Text(NAME_MAX)
SearchText = Text(200)


def _calendar_date(value: object) -> object:
    """Exactly YYYY-MM-DD: no time, no zone, no other spelling of the same day."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a day of the calendar") from None
    raise ValueError("must be a date written YYYY-MM-DD")


# A due date: a calendar day, no time zone to get wrong (years 1 to 9999).
Due = Annotated[date, BeforeValidator(_calendar_date)]


def _plain_text(value: str) -> str | None:
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise ValueError("may not contain the NUL character")
    return value or None  # empty notes are no notes: one way to say it


# A todo's notes: plain text, kept as typed (no trimming: indentation and blank lines count).
Notes = Annotated[str, StringConstraints(max_length=NOTES_MAX), AfterValidator(_plain_text)]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(value: str) -> str:
    # Looked up in the set of names, never opened as a path.
    if value not in _zones():
        raise ValueError("is not a time zone name of the IANA database, like Europe/Paris")
    return value


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]


class Input(BaseModel):
    # Unknown fields are a client bug worth reporting; strict types: "true" is not a boolean.
    model_config = ConfigDict(extra="forbid", strict=True)


def examples(*values: Any) -> ConfigDict:
    """A model's JSON schema for the OpenAPI document: its examples (for the docs page and
    generated clients), and no `default: null` where null is not a value (see Absent)."""

    def extra(schema: dict[str, Any]) -> None:
        for field in schema.get("properties", {}).values():
            if "default" in field and field["default"] is None:
                del field["default"]
        if values:
            schema["examples"] = list(values)

    return ConfigDict(json_schema_extra=extra)


# A field that may be left out but is never null (in a patch, or in an answer): the schema
# says `string`, not `string or null`.
Absent = SkipJsonSchema[None]


class Patch(Input):
    """A partial update: absent fields stay as they are; an explicit null is refused, except
    for the optional fields named in `clearable`, where null clears them."""

    clearable: ClassVar[frozenset[str]] = frozenset()

    model_config = examples()

    @field_validator("*", mode="before")
    @classmethod
    def not_null(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name not in cls.clearable:
            raise ValueError("may not be null")
        return value


class TodoDetails(Input):
    """A todo's optional details, the same when it is created and when it changes (null
    clears them)."""

    due: Due | None = None
    notes: Notes | None = None


class TodoCreate(TodoDetails):
    """A new todo: without `list_id` in the default list, without `order` at its end."""

    model_config = examples({"title": "Buy milk"}, {"title": "Call mom", "order": 1, "list_id": 2})
    title: Title
    completed: StrictBool = False
    order: Order | None = None
    list_id: Id | None = None


TodoCreateMany = Annotated[list[TodoCreate], Field(min_length=1, max_length=MAX_BULK)]


class NewTodos(RootModel[TodoCreate | TodoCreateMany]):
    """One todo, or an array of up to 1,000 created all or none."""

    model_config = examples({"title": "Buy milk"}, [{"title": "Eggs"}, {"title": "Bread"}])


class TodoUpdate(Patch, TodoDetails):
    """The fields to change; `order` and `list_id` move the todo; null clears `due` and
    `notes`."""

    model_config = examples({"completed": True}, {"title": "Buy oat milk", "order": 1})
    clearable = frozenset({"due", "notes"})

    title: Title | Absent = None
    completed: StrictBool | Absent = None
    order: Order | Absent = None
    list_id: Id | Absent = None


class TodoIds(Input):
    """POST /api/todos/restore: the todos to take out of the trash (an undo)."""

    model_config = examples({"ids": [3, 4]})
    ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_BULK)]


class TodoBulkUpdate(Input):
    """Toggle all: the state every matching todo gets."""

    model_config = examples({"completed": True})
    completed: StrictBool


class Query(BaseModel):
    """Query strings arrive as text, so types are converted (strict is off); unknown
    parameters are refused so that a typo does not silently change the result."""

    model_config = ConfigDict(extra="forbid")


class TodoFilter(Query):
    list_id: IdParam | None = None
    completed: bool | None = None
    q: SearchText | None = None
    due_before: Due | None = None
    due_after: Due | None = None
    overdue: bool | None = None
    tz: TimeZone | None = None  # whose "today" overdue means; default: the server's TZ


TodoSort = Literal[
    "order", "-order", "created_at", "-created_at", "updated_at", "-updated_at", "due", "-due"
]


class Page(Query):
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None
    count: bool = False


class TodoQuery(TodoFilter, Page):
    sort: TodoSort = "order"


class EventQuery(Query):
    """GET /api/events: one list's events only; resume after an event id (as Last-Event-ID)."""

    list_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    since: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None


TODO_EXAMPLE = {
    "id": 1,
    "list_id": 1,
    "title": "Buy milk",
    "completed": False,
    "order": 1,
    "due": "2026-01-09",
    "notes": None,
    "version": 1,
    "url": "http://127.0.0.1:8000/api/todos/1",
    "created_at": "2026-01-02T09:30:00.123456Z",
    "updated_at": "2026-01-02T09:30:00.123456Z",
}


class TodoOut(BaseModel):
    """A todo; `version` is its ETag, `url` its address."""

    model_config = examples(TODO_EXAMPLE)
    id: int
    list_id: int
    title: str
    completed: bool
    order: Annotated[int, Source("position")]
    due: date | None
    notes: str | None
    version: int
    url: str
    created_at: datetime
    updated_at: datetime


class CreatedTodos(RootModel[TodoOut | list[TodoOut]]):
    """The todo, or the array of todos, created."""

    model_config = examples(TODO_EXAMPLE)


class BulkResult(BaseModel):
    """How many todos were changed."""

    model_config = examples({"updated": 3})
    updated: int


class ListCreate(Input):
    """A new list; names are unique."""

    model_config = examples({"name": "Groceries"})
    name: Name


class ListUpdate(Patch):
    """A rename."""

    model_config = examples({"name": "Shopping"})
    name: Name | Absent = None


Role = Literal["owner", "editor", "viewer"]


class ListOut(BaseModel):
    """A list with the counts of its todos; `version` is its ETag's first part."""

    model_config = examples(
        {
            "id": 2,
            "name": "Groceries",
            "owner": "alice",
            "role": "owner",
            "version": 1,
            "active_count": 2,
            "completed_count": 1,
            "url": "http://127.0.0.1:8000/api/lists/2",
            "created_at": "2026-01-02T09:30:00.123456Z",
            "updated_at": "2026-01-02T09:30:00.123456Z",
        }
    )
    id: int
    name: str
    # The owner's username (null: the implicit user of AUTH=off), and the caller's role.
    owner: str | None
    role: Role
    version: int
    active_count: int
    completed_count: int
    url: str
    created_at: datetime
    updated_at: datetime


# The kinds of event on GET /api/events: `ready` and `reset` from the stream itself, the
# others from the database's triggers (migration 0006).
EventKind = Literal[
    "ready",
    "reset",
    "todos.created",
    "todos.updated",
    "todos.deleted",
    "list.created",
    "list.updated",
    "list.deleted",
    "membership.added",
    "membership.updated",
    "membership.removed",
]


class StreamEvent(BaseModel):
    """One event of the live feed as `text/event-stream` frames it: `event:` its kind, `id:`
    the place to resume after it, `data:` JSON with `id`, `kind`, `list_id`, `at` and the
    change: `todos` (their states; for a deletion, the last ones), `list` (its state, with
    the recipient's `role`), `member` (`username` and `role`: a list shared, a role changed,
    a sharing ended), or, past 100 todos, `refetch: true` and `count`. `ready` begins the
    live part, `reset` means "refetch everything"."""

    model_config = examples(
        {
            "event": "todos.updated",
            "id": "42",
            "data": '{"id":42,"kind":"todos.updated","list_id":1,'
            '"at":"2026-01-02T09:30:00.123456+00:00","todos":[{"id":1,"list_id":1,'
            '"title":"Buy milk","completed":true,"order":1,"version":2,'
            '"created_at":"2026-01-02T09:30:00.123456+00:00",'
            '"updated_at":"2026-01-02T09:30:00.123456+00:00",'
            '"url":"http://127.0.0.1:8000/api/todos/1"}]}',
        }
    )
    event: EventKind
    id: Annotated[str, StringConstraints(pattern=r"^[0-9]+$")]
    data: Annotated[str, Field(json_schema_extra={"contentMediaType": "application/json"})]
    retry: int | Absent = None


# --- accounts --------------------------------------------------------------------------

USERNAME_PATTERN = rf"^[A-Za-z0-9._-]{{{USERNAME_MIN},{USERNAME_MAX}}}$"
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
NewPassword = Annotated[str, StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]
# What a sign-in accepts: any text up to the maximum (a longer one cannot be right, and
# hashing megabytes would be a way to burn the server's CPU).
GivenPassword = Annotated[str, StringConstraints(max_length=PASSWORD_MAX)]


CREDENTIALS_EXAMPLE = {"username": "alice", "password": "correct horse battery"}


class Signup(Input):
    """A new account: 3-40 letters, digits, `.`, `_`, `-`; a password of 10-1,000 characters
    that is not one of the most common ones."""

    model_config = examples(CREDENTIALS_EXAMPLE)
    username: Username
    password: NewPassword


class Login(Input):
    """A username (any case) and its password."""

    model_config = examples(CREDENTIALS_EXAMPLE)
    username: Username  # one that cannot exist is a format error (no database look-up)
    password: GivenPassword


class PasswordChange(Input):
    """The current password, and the new one (the rules of a sign-up)."""

    model_config = examples(
        {"current_password": "correct horse battery", "new_password": "a new and long secret"}
    )
    current_password: GivenPassword
    new_password: NewPassword


class AccountDeletion(Input):
    """The account's password, to confirm."""

    model_config = examples({"password": "correct horse battery"})
    password: GivenPassword


class UserOut(BaseModel):
    """Who is signed in; `username` is null for the implicit user of AUTH=off."""

    model_config = examples({"id": 1, "username": "alice"})
    id: int
    username: str | None


class TokenCreate(Input):
    """A name for the new access token (to recognise it in the list)."""

    model_config = examples({"name": "backup script"})
    # No control characters (PostgreSQL text cannot even hold NUL).
    name: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            min_length=1,
            max_length=TOKEN_NAME_MAX,
            pattern=r"^[^\x00-\x1f\x7f]*$",
        ),
    ]


TOKEN_EXAMPLE = {
    "id": 3,
    "name": "backup script",
    "created_at": "2026-01-02T09:30:00.123456Z",
    "last_used_at": None,
}


class TokenOut(BaseModel):
    """An access token, without its secret; `last_used_at` is updated at most once a minute."""

    model_config = examples(TOKEN_EXAMPLE)
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class NewTokenOut(TokenOut):
    """A new access token with its secret, `token`: shown in this answer only."""

    model_config = examples({**TOKEN_EXAMPLE, "token": "tdo_3q2x…"})
    token: str


class MemberSet(Input):
    """The role to give: `editor` (changes todos and the name) or `viewer` (reads)."""

    model_config = examples({"role": "viewer"})
    role: Literal["editor", "viewer"]


class MemberOut(BaseModel):
    """Someone with access to a list, and as what (the owner is listed first)."""

    model_config = examples({"username": "bob", "role": "viewer"})
    username: str | None
    role: Role


class FieldError(BaseModel):
    """What is wrong, and where: a JSON pointer into the body, a query parameter or a header."""

    model_config = examples()

    pointer: str | Absent = None
    parameter: str | Absent = None
    header: str | Absent = None
    detail: str


class Health(BaseModel):
    """The process answers."""

    model_config = examples({"status": "ok"})
    status: Literal["ok"]


class Ready(BaseModel):
    """The database answers and its schema is at the migrations' head."""

    model_config = examples({"status": "ready", "revision": "0002"})
    status: Literal["ready"]
    revision: str


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    model_config = examples(
        {
            "type": "urn:todoapp:problem:validation-error",
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "The request body is not valid.",
            "errors": [{"pointer": "/title", "detail": "String should have at least 1 character"}],
        }
    )
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | Absent = None
    # 412 only: the item as it is now (its ETag is in the ETag header).
    current: dict[str, Any] | Absent = None
