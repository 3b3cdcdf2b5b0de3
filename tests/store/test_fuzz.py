"""Fuzz test of the reader: hypothesis mutates the metadata (any value of any zarr.json) and the
chunk bytes of a small dataset; every outcome must be a correct read or a documented error.

Correct read: every ok row's parameters equal the unmutated dataset's (never a wrong weight),
and verify() flags every chunk whose bytes no longer match their crc32c checksum, even where
the read did not need it. Documented error: StoreError. Anything else (another exception, running past the
time cap, dying under the memory cap) is a defect. The reads happen in one worker process
(tests/store/fuzz_worker.py) under RLIMIT_AS = its size after imports + 1 GiB and 20 s per case.

FUZZ_CASES (default 500) sets the number of cases; FUZZ_LOG=file.jsonl records each case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.hostile_helpers import make_dataset

pytestmark = pytest.mark.slow

CASES = int(os.environ.get("FUZZ_CASES", "500"))
TESTS = Path(__file__).resolve().parents[1]
HOSTILE_VALUES = [0, -1, 1, 3, 2**31, 2**63, 10**12, -(10**12), 1.5, float("nan"), float("inf"), "", "x", "float32",
                  "int32", "1.0", "2.0", "arch/0", "records/status", None, True, [], {}, [0], [10**9, 10**9],
                  [-1, 4], {"name": "x"}, ["a", "b"], "../../../etc/passwd"]


class Worker:
    def __init__(self, base: Path, scratch: Path):
        env = {**os.environ, "MALLOC_ARENA_MAX": "2",
               "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, str(TESTS / "store" / "fuzz_worker.py"), str(base), str(scratch)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.ready = json.loads(self.proc.stdout.readline())
        self.answers: list[dict] = []

    def ask(self, mutations: list[dict]) -> dict:
        self.proc.stdin.write(json.dumps(mutations) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the reader process died (exit {self.proc.poll()}) on {mutations}"
        answer = json.loads(line)
        self.answers.append(answer)
        if os.environ.get("FUZZ_LOG"):  # every case and its outcome, for reading what the fuzzer tried
            with open(os.environ["FUZZ_LOG"], "a") as log:
                log.write(json.dumps({"mutations": mutations, **answer}) + "\n")
        return answer

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    base = make_dataset(tmp_path_factory.mktemp("fuzz") / "base.zarr")
    files = sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
    return base, [f for f in files if f.endswith("zarr.json")], [f for f in files if "/c/" in f]


@pytest.fixture(scope="module")
def worker(dataset, tmp_path_factory):
    reader = Worker(dataset[0], tmp_path_factory.mktemp("fuzz-scratch"))
    yield reader
    reader.close()
    outcomes = {}
    for answer in reader.answers:
        outcomes[answer["outcome"]] = outcomes.get(answer["outcome"], 0) + 1
    seconds = sum(a["seconds"] for a in reader.answers)
    print(f"\nfuzz: {len(reader.answers)} cases, outcomes {outcomes}, {seconds:.1f} s of reading, "
          f"peak RSS {max(a['max_rss_kb'] for a in reader.answers) / 1024:.0f} MiB "
          f"(address space cap {reader.ready['address_space_limit'] / 2**30:.2f} GiB)")


@st.composite
def json_mutation(draw, base: Path, files: list[str]) -> dict:
    name = draw(st.sampled_from(files))
    node = json.loads((base / name).read_text())
    path: list = []
    while isinstance(node, (dict, list)) and node and (not path or draw(st.booleans())):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
        path.append(key)
        node = node[key]
    if not path:
        path = [draw(st.sampled_from(sorted(json.loads((base / name).read_text()))))]
    action = draw(st.sampled_from(["set", "set", "set", "delete"]))
    value = draw(st.one_of(st.sampled_from(HOSTILE_VALUES), st.integers(-(2**70), 2**70), st.text(max_size=8)))
    return {"kind": "json", "file": name, "path": path, "action": action, "value": value}


@st.composite
def chunk_mutation(draw, chunks: list[str]) -> dict:
    name = draw(st.sampled_from(chunks))
    action = draw(st.sampled_from(["flip", "flip", "truncate", "garbage", "delete", "copy", "zstd_bomb", "blosc_bomb"]))
    mutation = {"kind": "chunk", "file": name, "action": action}
    if action == "flip":
        count = draw(st.integers(1, 4))
        mutation["positions"] = draw(st.lists(st.integers(0, 2**16), min_size=count, max_size=count))
        mutation["masks"] = draw(st.lists(st.integers(1, 255), min_size=count, max_size=count))
    elif action == "truncate":
        mutation["size"] = draw(st.integers(0, 2**16))
    elif action == "garbage":
        mutation.update(seed=draw(st.integers(0, 2**32)), size=draw(st.integers(0, 4096)))
    elif action == "copy":
        array = name.split("/c/")[0]
        mutation["source"] = draw(st.sampled_from([c for c in chunks if c.startswith(array + "/c/")]))
    elif action in ("zstd_bomb", "blosc_bomb"):
        mutation["claim"] = draw(st.integers(2**20, 2**62))
    return mutation


def test_every_mutation_is_a_correct_read_or_a_documented_error(dataset, worker):
    base, metadata, chunks = dataset

    @settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(st.one_of(json_mutation(base, metadata), chunk_mutation(chunks)), min_size=1, max_size=3))
    def case(mutations):
        answer = worker.ask(mutations)
        assert answer["outcome"] != "crash", (answer, mutations)
        if answer["outcome"] == "read":
            assert not answer["wrong"], (f"wrong parameters for rows {answer['wrong']}", mutations)
            assert not (answer["verify_ok"] and answer["corrupt"]), ("verify missed corrupt chunks", mutations)

    case()
    assert len(worker.answers) >= CASES
