"""Fault injection for crash tests: kill this process at a named point of writing a dataset.

    INRZOO_FAULT=write:status        # SIGKILL at the first time the point is reached
    INRZOO_FAULT=write:status@3      # ... at the third time

The points (docs/format.md, "Crash consistency") are listed in POINTS; each sits between two
store operations whose order the format's crash guarantees depend on. Unset, a point costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "INRZOO_FAULT"
POINTS = (
    "create:marker",  # the creation marker is written, nothing else
    "create:root",  # the root group exists, without the inrzoo attributes
    "create:arrays",  # record arrays created, architecture groups not yet
    "create:listing",  # every array created and the listing written, attributes not yet
    "create:commit",  # root attributes written, the creation marker still present
    "write:params",  # a unit's parameter chunks written, its records not yet
    "write:records",  # its records written except status
    "write:status",  # its status written: the unit is complete
    "append:marker",  # the append is announced in the root attributes
    "append:resized",  # arrays other than records/status resized
    "append:listing",  # the new rows' records written, records/status not yet resized
    "finalize:attributes",  # statistics written into the root attributes, the card not yet
    "finalize:card",  # the card written
)
_hits: dict[str, int] = {}


def point(name: str) -> None:
    """Die here (SIGKILL, as a killed driver or worker would) if INRZOO_FAULT names this point."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    target, _, count = wanted.partition("@")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
