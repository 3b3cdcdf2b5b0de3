#!/usr/bin/env bash
# The GPU checks of the fit engine (issue 18), for a bare CUDA machine: Python with torch and
# numpy (scipy and pytest for the tests), no network, nothing installed. From the repository root:
#
#     OUT=/path/to/results bash benchmarks/gpu_check.sh        # at most 6 minutes (capped steps)
#
# It runs (1) an import check: inrzoo.fit loads with torch and numpy alone; (2) the fit tests,
# GPU ones included (tests/fit/test_gpu.py: CUDA sample orders equal the CPU ones, a CUDA fit
# follows the CPU fit, steps never synchronize under torch.cuda.set_sync_debug_mode("error"));
# (3) benchmarks/fit_speed.py on the device: engine and lean loop at K = 8192, 2048, 512, 64, 1,
# shapes/GPU-hour at Davies' budget, with the TF32/bf16 extras. Everything goes to $OUT:
# env.txt, imports.txt, tests.log, fit_speed.log, fit_speed.json. Exit status 1 if a step failed.
#
# On a CPU machine (a dry run with small sizes):
#     OUT=/tmp/gc DEVICE=cpu KS="1 4" BATCH=64 EPOCH_STEPS=8 EXTRAS= THREADS=1 bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT to a writable directory for the results}
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
KS=${KS:-8192 2048 512 64 1}  # the largest first: a run cut short keeps what matters most
BATCH=${BATCH:-2048}
EPOCH_STEPS=${EPOCH_STEPS:-32}
REPEATS=${REPEATS:-2}
EXTRAS=${EXTRAS---extras}
THREADS=${THREADS:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-100}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-240}
export PYTHONPATH="$PWD/platform${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$OUT"
status=0
started=$(date +%s)

{
    date -u
    git rev-parse HEAD 2>/dev/null || true
    "$PY" -c 'import sys, torch, numpy; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "numpy", numpy.__version__); print("device", torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA device")'
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
    echo "cpus $(nproc)"
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

echo "== imports"
"$PY" - > "$OUT/imports.txt" 2>&1 <<'EOF' || status=1
import sys
import numpy, torch
before = {m.split(".")[0] for m in sys.modules}
import inrzoo.fit, inrzoo.fit.engine
optional = {"yaml", "scipy", "zarr", "ray", "trimesh", "mlflow", "igl", "fsspec", "skimage", "s3fs", "h5py"}
pulled = sorted(({m.split(".")[0] for m in sys.modules} - before) & optional)
print("inrzoo.fit imports", pulled or "none of the optional dependencies")
sys.exit(1 if pulled else 0)
EOF
cat "$OUT/imports.txt"

echo "== tests"
if "$PY" -c "import pytest" 2>/dev/null; then
    timeout "$TEST_TIMEOUT" "$PY" -m pytest -p no:cacheprovider -q -rs tests/fit \
        > "$OUT/tests.log" 2>&1 || status=1
else
    # No pytest on the machine: run the GPU tests with a stand-in for the few pytest names they use.
    timeout "$TEST_TIMEOUT" "$PY" - > "$OUT/tests.log" 2>&1 <<'EOF' || status=1
import importlib, math, sys, traceback, types
sys.path.insert(0, "tests")
stub = types.ModuleType("pytest")
class _Skip:
    def __init__(self, reason): self._skip = reason
    def __call__(self, f):
        f._skip = self._skip
        return f
class _Mark:
    def skipif(self, cond, reason=""): return _Skip(reason if cond else None)
    def parametrize(self, name, values, ids=None):
        def apply(f):
            f._params = (name, list(values))
            return f
        return apply
class _Approx:
    def __init__(self, expected, rel=1e-6): self.expected, self.rel = expected, rel
    def __eq__(self, other): return math.isclose(other, self.expected, rel_tol=self.rel)
stub.mark, stub.approx = _Mark(), _Approx
sys.modules["pytest"] = stub
module = importlib.import_module("fit.test_gpu")
skip = getattr(getattr(module, "pytestmark", None), "_skip", None)
passed = failed = 0
for name in sorted(n for n in dir(module) if n.startswith("test_")):
    test = getattr(module, name)
    cases = [{}] if not hasattr(test, "_params") else [{test._params[0]: v} for v in test._params[1]]
    for case in cases:
        label = f"{name}{list(case.values()) or ''}"
        if skip:
            print("SKIPPED", label, skip)
            continue
        try:
            test(**case)
            passed += 1
            print("PASSED", label)
        except Exception:
            failed += 1
            print("FAILED", label)
            traceback.print_exc()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or skip else 0)
EOF
fi
tail -n 15 "$OUT/tests.log"

echo "== fit_speed (device $DEVICE)"
# shellcheck disable=SC2086  # KS and EXTRAS are word lists on purpose
timeout "$BENCH_TIMEOUT" "$PY" benchmarks/fit_speed.py --device "$DEVICE" --ks $KS --batch "$BATCH" \
    --epoch-steps "$EPOCH_STEPS" --repeats "$REPEATS" $EXTRAS ${THREADS:+--threads $THREADS} \
    --json "$OUT/fit_speed.json" \
    > "$OUT/fit_speed.log" 2>&1 || status=1
cat "$OUT/fit_speed.log"
echo "== done in $(( $(date +%s) - started )) s, status $status"
exit $status
