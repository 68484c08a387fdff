"""Request and response shapes. The same pydantic models validate input and describe the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)

from .models import NAME_MAX, TITLE_MAX

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX)]
# Ids and positions are PostgreSQL bigint / integer: out-of-range numbers are bad input, not a 500.
Id = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
Order = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]


class Input(BaseModel):
    # Unknown fields are a client bug worth reporting; strict types: "true" is not a boolean.
    model_config = ConfigDict(extra="forbid", strict=True)


class TodoCreate(Input):
    title: Title
    completed: StrictBool = False
    order: Order | None = None
    list_id: Id | None = None


class Patch(Input):
    """A partial update: absent fields stay as they are; an explicit null is refused."""

    @field_validator("*", mode="before")
    @classmethod
    def not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null")
        return value


class TodoUpdate(Patch):
    title: Title | None = None
    completed: StrictBool | None = None
    order: Order | None = None
    list_id: Id | None = None


class TodoFilter(BaseModel):
    """Query string of GET and DELETE /api/todos (strings converted, so strict is off)."""

    model_config = ConfigDict(extra="ignore")
    list_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    completed: bool | None = None


class TodoQuery(TodoFilter):
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


class ListCreate(Input):
    name: Name


class ListUpdate(Patch):
    name: Name | None = None


class TodoOut(BaseModel):
    id: int
    list_id: int
    title: str
    completed: bool
    order: int
    url: str
    created_at: datetime
    updated_at: datetime


class ListOut(BaseModel):
    id: int
    name: str
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
