"""Request and response shapes. The same pydantic models validate input and describe the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

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


class TodoOut(BaseModel):
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
