"""Waiting in background loops that must stop promptly: on ``stop`` being set, and on
cancellation (a replica shutting down, a test killing a relay)."""

from __future__ import annotations

import asyncio


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` unless ``stop`` is set first. True when stopping.

    ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` swallows a cancellation
    that arrives as its timeout expires, and a cancelled loop would go on running.
    """
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        return False
    return True


def cancelling() -> bool:
    """True when the current task has been asked to stop. A loop that catches a driver's error
    checks this before retrying: a cancellation can surface as that error (asyncpg's rollback
    on a connection cut under it raises in place of the ``CancelledError``), and retrying
    would keep a cancelled task alive."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
