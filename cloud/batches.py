"""Many items written after a commit, in DynamoDB's batches: the players' partial state, a round's
result pages.

Nothing reads these writes as a guard, and each of their readers can do without them (a partial
command or a snapshot without its partial state loads the whole game; a page of results without its
page item is built from the whole game), so they are plain batch writes, several at a time, with what
DynamoDB leaves unprocessed retried a few times and then left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from engagements.store.base import MAX_BATCH_ITEMS, PK, SK, Delete, Item, Key, Put, Store

WRITERS = 16  # batches in flight at once
RETRIES = 3  # of what a batch left unprocessed
PAUSE = 0.01  # seconds before each retry


async def write_all(store: Store, puts: Sequence[Item] = (), deletes: Sequence[Key] = ()) -> None:
    """Put `puts`, then delete `deletes`, in batches; raises StoreError."""
    limit = asyncio.Semaphore(WRITERS)

    async def write(batch_puts: Sequence[Item], batch_deletes: Sequence[Key]) -> None:
        async with limit:
            left = await store.batch_write(batch_puts, batch_deletes)
            for _ in range(RETRIES):
                if not left:
                    return
                await asyncio.sleep(PAUSE)
                again = [w.item for w in left if isinstance(w, Put)]
                gone = [{PK: w.pk, SK: w.sk} for w in left if isinstance(w, Delete)]
                left = await store.batch_write(again, gone)

    n = MAX_BATCH_ITEMS
    await asyncio.gather(*(write(puts[i : i + n], ()) for i in range(0, len(puts), n)))
    await asyncio.gather(*(write((), deletes[i : i + n]) for i in range(0, len(deletes), n)))
