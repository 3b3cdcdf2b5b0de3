"""The small dataset of the hostile-input tests and the fuzz test (inrzoo.store.tamper), and
the parameters every row of it must read back as."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from inrzoo.store.tamper import (  # noqa: F401 - re-exported for the tests
    arch_attrs,
    chunk_files,
    edit_json,
    inflate_rows_keeping_last_chunk,
    rewrite_chunk,
    sample_dataset as make_dataset,
    sample_result,
    set_all_rows,
    set_record,
    zstd_bomb_header,
)


def expected_params(row: int) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in sample_result(row).params.items()}


def copy_of(base: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target)
    return target
