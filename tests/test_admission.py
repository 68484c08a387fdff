"""Fair admission to the database pool (data/db.py's Admission): units of work get a
connection in the order they asked for one, a newcomer never overtakes a waiter, and only a
wait past DB_POOL_TIMEOUT is refused."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.data.db import Admission


async def admitted_in_order(
    admission: Admission, names: list[str], order: list[str]
) -> list[asyncio.Task[None]]:
    """Queue one task per name (in that order), each noting in `order` when it is admitted."""

    async def unit(name: str) -> None:
        async with admission:
            order.append(name)

    tasks = [asyncio.create_task(unit(name)) for name in names]
    await asyncio.sleep(0)  # one turn of the loop: each task runs up to its wait, in order
    return tasks


async def test_waiters_are_admitted_in_arrival_order() -> None:
    admission = Admission(slots=1, timeout=60)
    order: list[str] = []
    async with admission:  # the only slot is taken
        tasks = await admitted_in_order(admission, ["a", "b", "c", "d"], order)
        assert len(admission.waiters) == 4
        assert order == []
    await asyncio.gather(*tasks)
    assert order == ["a", "b", "c", "d"]
    assert admission.free == 1 and not admission.waiters


async def test_a_newcomer_does_not_overtake_a_waiter_handed_the_slot() -> None:
    admission = Admission(slots=1, timeout=60)
    order: list[str] = []
    async with admission:
        tasks = await admitted_in_order(admission, ["waiter"], order)
    # The slot went to the waiter at release, before it had a chance to run: a unit of work
    # asking now finds none free and queues behind it.
    assert admission.free == 0
    late = await admitted_in_order(admission, ["newcomer"], order)
    await asyncio.gather(*tasks, *late)
    assert order == ["waiter", "newcomer"]
    assert admission.free == 1


async def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    admission = Admission(slots=1, timeout=60)
    order: list[str] = []
    async with admission:
        tasks = await admitted_in_order(admission, ["gone", "next"], order)
        tasks[0].cancel()  # its client went away while it waited
        await asyncio.sleep(0)
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == ["next"]
    assert admission.free == 1 and not admission.waiters


async def test_a_slot_handed_to_a_waiter_cancelled_meanwhile_is_not_lost() -> None:
    admission = Admission(slots=1, timeout=60)
    order: list[str] = []
    async with admission:
        tasks = await admitted_in_order(admission, ["gone", "next"], order)
    tasks[0].cancel()  # cancelled after the slot was handed to it, before it ran
    await asyncio.gather(*tasks, return_exceptions=True)
    assert order == ["next"]
    assert admission.free == 1 and not admission.waiters


async def test_a_wait_past_the_timeout_is_refused_and_the_queue_goes_on() -> None:
    admission = Admission(slots=1, timeout=0.05)
    async with admission:
        with pytest.raises(PoolTimeout):
            async with admission:
                pass
        assert not [w for w in admission.waiters if not w.done()]
    async with admission:  # the slot came back
        assert admission.free == 0
    assert admission.free == 1
