"""The content digest of a weight dataset: what lineage records (MLflow inputs, model tags).

sha256 over the conversion config, the rows' ids and source hashes and their statuses: two
datasets with the same digest were made from the same sources by the same settings and hold
the same set of finished rows. Parameters are not hashed (they follow from the rest).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def content_digest(config: Mapping[str, Any], ids: Sequence[Any], sha256s: Sequence[Any], statuses: Any) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(dict(config), sort_keys=True).encode())
    for column in (ids, sha256s):
        digest.update("\n".join(str(v) for v in column).encode())
    digest.update(np.asarray(statuses).tobytes())
    return digest.hexdigest()
