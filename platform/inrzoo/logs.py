"""Progress lines of long runs: `logging` under the "inrzoo" logger, visible by default.

Libraries should not configure logging, but a conversion or a training run that prints nothing
for minutes looks hung. `show_progress()`, called by the long-running entry points, attaches a
plain stderr handler to the "inrzoo" logger only when the application configured no logging at
all; an application (or the CLI) that configures logging keeps full control.
"""

from __future__ import annotations

import logging
import sys


def show_progress() -> None:
    root, ours = logging.getLogger(), logging.getLogger("inrzoo")
    if root.handlers or ours.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ours.addHandler(handler)
    if ours.level == logging.NOTSET:
        ours.setLevel(logging.INFO)
