"""Request and response shapes. The same pydantic models validate input and describe the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from .limits import MAX_BULK, MAX_ORDER, NAME_MAX, TITLE_MAX


@dataclass(frozen=True)
class Source:
    """On a response field: the stored column it shows, where the names differ."""

    column: str


Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
# Ids and positions are PostgreSQL bigint / integer: out-of-range numbers are bad input, not a 500.
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Order = Annotated[StrictInt, Field(ge=1, le=MAX_ORDER)]


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
    """A partial update: absent fields stay as they are; an explicit null is refused."""

    model_config = examples()

    @field_validator("*", mode="before")
    @classmethod
    def not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class TodoCreate(Input):
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


class TodoUpdate(Patch):
    """The fields to change; `order` and `list_id` move the todo."""

    model_config = examples({"completed": True}, {"title": "Buy oat milk", "order": 1})
    title: Title | Absent = None
    completed: StrictBool | Absent = None
    order: Order | Absent = None
    list_id: Id | Absent = None


class TodoBulkUpdate(Input):
    """Toggle all: the state every matching todo gets."""

    model_config = examples({"completed": True})
    completed: StrictBool


class Query(BaseModel):
    """Query strings arrive as text, so types are converted (strict is off); unknown
    parameters are refused so that a typo does not silently change the result."""

    model_config = ConfigDict(extra="forbid")


class TodoFilter(Query):
    list_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    completed: bool | None = None
    q: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None


TodoSort = Literal["order", "-order", "created_at", "-created_at", "updated_at", "-updated_at"]


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


class ListOut(BaseModel):
    """A list with the counts of its todos; `version` is its ETag's first part."""

    model_config = examples(
        {
            "id": 2,
            "name": "Groceries",
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
    version: int
    active_count: int
    completed_count: int
    url: str
    created_at: datetime
    updated_at: datetime


# The kinds of event on GET /api/events: `ready` and `reset` from the stream itself, the
# others from the database's triggers (migration 0003).
EventKind = Literal[
    "ready",
    "reset",
    "todos.created",
    "todos.updated",
    "todos.deleted",
    "list.created",
    "list.updated",
    "list.deleted",
]


class StreamEvent(BaseModel):
    """One event of the live feed as `text/event-stream` frames it: `event:` its kind, `id:`
    the place to resume after it, `data:` JSON with `id`, `kind`, `list_id`, `at` and the
    change: `todos` (their states; for a deletion, the last ones), `list` (its state), or,
    past 100 todos, `refetch: true` and `count`. `ready` begins the live part, `reset` means
    "refetch everything"."""

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
