"""Four writer processes filling one dataset at the same time, then a full consistency check.

Shared by the file:// test and the S3 integration test; each worker is a separate Python
process (subprocess) that opens the dataset itself and writes every 4th work unit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

import inrzoo
from store.weights_helpers import TOY, TOY_WIDE, listing, params_for

TESTS = Path(__file__).resolve().parents[1]
WORKERS = 4

WORKER = r"""
import json, sys
from inrzoo.store import WeightWriter
from store.weights_helpers import TOY, TOY_WIDE, ok_result
uri, options, units = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
writer = WeightWriter.open(uri, options)
for start, stop in units:
    unit = range(start, stop)
    writer.write(unit, [ok_result(TOY_WIDE, r, arch=1) if r % 7 == 3 else ok_result(TOY, r, arch=0) for r in unit])
print("done", len(units))
"""


def run_four_writers(uri: str, storage_options: dict, rows: int = 203, chunk_rows: int = 8, shard_rows: int | None = None) -> None:
    writer = inrzoo.create_weights(uri, listing(rows), [TOY, TOY_WIDE], chunk_rows=chunk_rows, shard_rows=shard_rows,
                                   storage_options=storage_options)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    # The coordinator hands out the units once: a worker that listed pending units itself
    # after another had started would see a different list.
    units = [[u.start, u.stop] for u in writer.work_units()]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, uri, json.dumps(storage_options), json.dumps(units[i::WORKERS])],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(WORKERS)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    check_complete(uri, storage_options, rows)
    assert writer.work_units() == []
    stats = writer.finalize()
    assert stats["status"] == {"ok": rows}


def check_complete(uri: str, storage_options: dict, rows: int) -> None:
    ds = inrzoo.open_weights(uri, storage_options, status=None)
    cols = ds.columns
    assert np.all(cols["status"] == 1), np.flatnonzero(cols["status"] != 1)
    expected_arch = np.array([1 if r % 7 == 3 else 0 for r in range(rows)])
    assert np.array_equal(cols["arch"], expected_arch) and np.array_equal(cols["arch_row"], np.arange(rows))
    assert list(cols["id"]) == [f"shape{r}" for r in range(rows)]
    assert np.array_equal(cols["steps"], 10 * np.arange(rows))
    for group, layout in ((0, TOY), (1, TOY_WIDE)):
        members = np.flatnonzero(expected_arch == group)
        params = ds.read_params(members, group)
        for k, row in enumerate(members):
            for name, value in params_for(layout, int(row)).items():
                assert torch.equal(params[name][k], torch.from_numpy(value)), (row, name)
        others = np.flatnonzero(expected_arch != group)
        assert float(ds.read_params(others, group)["w"].abs().sum()) == 0.0  # rows of the other group stay empty
