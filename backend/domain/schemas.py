"""Request and response shapes. The same pydantic models validate input and describe the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

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
    field_validator,
)

from ..data.models import NAME_MAX, TITLE_MAX

# --- numbers: the ranges of the PostgreSQL columns they end up in ------------------------
# A value outside its column's range must be refused here, as bad input: if it reached the
# driver, asyncpg would fail to encode it half-way through a statement (issue 9).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # integer (positions, versions)
BIGINT_MAX = 2**63 - 1  # bigint (ids)

Id = Annotated[StrictInt, Field(ge=1, le=BIGINT_MAX)]
# Positions are PostgreSQL integers; the cap leaves room to append a billion more after it.
MAX_ORDER = 1_000_000_000
Order = Annotated[StrictInt, Field(ge=1, le=MAX_ORDER)]
# A stored position (read back in a page cursor): anything the integer column can hold.
Position = Annotated[StrictInt, Field(ge=INT_MIN, le=INT_MAX)]
MAX_BULK = 1000

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


class Input(BaseModel):
    # Unknown fields are a client bug worth reporting; strict types: "true" is not a boolean.
    model_config = ConfigDict(extra="forbid", strict=True)


class Patch(Input):
    """A partial update: absent fields stay as they are; an explicit null is refused."""

    @field_validator("*", mode="before")
    @classmethod
    def not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class TodoCreate(Input):
    title: Title
    completed: StrictBool = False
    order: Order | None = None
    list_id: Id | None = None


TodoCreateMany = Annotated[list[TodoCreate], Field(min_length=1, max_length=MAX_BULK)]


class NewTodos(RootModel[TodoCreate | TodoCreateMany]):
    """POST /api/todos takes one todo, or an array of up to 1,000 (for the OpenAPI document)."""


class TodoUpdate(Patch):
    title: Title | None = None
    completed: StrictBool | None = None
    order: Order | None = None
    list_id: Id | None = None


class TodoBulkUpdate(Input):
    completed: StrictBool


class Query(BaseModel):
    """Query strings arrive as text, so types are converted (strict is off); unknown
    parameters are refused so that a typo does not silently change the result."""

    model_config = ConfigDict(extra="forbid")


class TodoFilter(Query):
    list_id: IdParam | None = None
    completed: bool | None = None
    q: SearchText | None = None


TodoSort = Literal["order", "-order", "created_at", "-created_at", "updated_at", "-updated_at"]


class Page(Query):
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None
    count: bool = False


class TodoQuery(TodoFilter, Page):
    sort: TodoSort = "order"


class TodoOut(BaseModel):
    id: int
    list_id: int
    title: str
    completed: bool
    order: int
    version: int
    url: str
    created_at: datetime
    updated_at: datetime


class CreatedTodos(RootModel[TodoOut | list[TodoOut]]):
    """What POST /api/todos answers: the todo, or the array of todos, it created."""


class BulkResult(BaseModel):
    updated: int


class ListCreate(Input):
    name: Name


class ListUpdate(Patch):
    name: Name | None = None


class ListOut(BaseModel):
    id: int
    name: str
    version: int
    active_count: int
    completed_count: int
    url: str
    created_at: datetime
    updated_at: datetime


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
