"""A fault the reliability drills inject: the process dies right after an append made under an
Idempotency-Key has committed, before its answer leaves — the moment where a retry could append
twice if the answer were not committed with the events (see store.idempotency).

Off unless `TIMELINE_DRILL_CRASH_AFTER_COMMIT` (a probability per such append) is set; the
draws come from `TIMELINE_DRILL_SEED`, so a failing drill can be replayed.
"""

from __future__ import annotations

import os
import random
import signal


class CrashAfterCommit:
    """Kill this process (SIGKILL: nothing runs after it) with a given probability."""

    def __init__(self, probability: float, seed: int) -> None:
        self._probability = probability
        self._draws = random.Random(seed)

    def maybe(self) -> None:
        if self._probability and self._draws.random() < self._probability:
            os.kill(os.getpid(), signal.SIGKILL)
