"""The tables, as SQLAlchemy 2 declarative models. Constraints live in the database too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

TITLE_MAX = 500
NAME_MAX = 200


class Base(DeclarativeBase):
    pass


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class TodoList(Timestamps, Base):
    __tablename__ = "todo_lists"
    __table_args__ = (
        CheckConstraint(
            f"char_length(btrim(name)) BETWEEN 1 AND {NAME_MAX}", name="todo_lists_name_check"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False, unique=True)

    # lazy="raise": an accidental lazy load in async code fails loudly instead of MissingGreenlet.
    todos: Mapped[list[Todo]] = relationship(
        back_populates="todo_list", passive_deletes=True, lazy="raise"
    )


class Todo(Timestamps, Base):
    __tablename__ = "todos"
    __table_args__ = (
        CheckConstraint(
            f"char_length(btrim(title)) BETWEEN 1 AND {TITLE_MAX}", name="todos_title_check"
        ),
        # Serves "the todos of a list in order" and "the end of a list" (max position).
        Index("ix_todos_list_id_position", "list_id", "position"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("todo_lists.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    completed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))

    todo_list: Mapped[TodoList] = relationship(back_populates="todos", lazy="raise")
