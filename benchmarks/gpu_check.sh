#!/usr/bin/env bash
# The GPU checks of the fit engine (issue 18), for a bare CUDA machine: Python with torch and
# numpy (scipy and pytest for the tests, triton for the fused kernel), no network, nothing
# installed. From the repository root:
#
#     bash benchmarks/gpu_site.sh                  # here, once: builds .gpu-site/ (~35 MB)
#     OUT=/path/to/results bash benchmarks/gpu_check.sh      # there, with .gpu-site carried
#
# At most TOTAL=370 s: each step has its own cap and never runs past the total; every step
# writes its results as it goes, so a run cut short keeps what it measured. Steps:
# (1) env.txt: versions, GPU, which optional packages the machine has;
# (2) imports.txt: inrzoo.fit loads with torch and numpy alone;
# (3) tests.log: tests/fit, GPU tests included (test_gpu.py: CUDA sample orders, a CUDA fit
#     following the CPU fit, steps that never synchronize; test_fused.py: the compiled fused
#     kernel equal to the torch path, lower-precision products near it, a fused fit following
#     the torch fit);
# (4) fit_speed.log/.json: shapes/GPU-hour at Davies' budget, K = 8192 and 2048, for the engine
#     (torch path; fp32 and bf16 autocast), the fused kernel (fp32 and bf16) and the lean loop
#     (fp32 and bf16 autocast);
# (5) precision.log/.json: benchmarks/fit_precision.py, the surface-error distribution on the 49
#     development meshes per MLP path (torch fp32 = reference, fused fp32/bf16/tf32, torch under
#     bf16 autocast): is lower precision allowed? (needs .gpu-site: libigl for ground truth);
# (6) overlap.log/.json: benchmarks/convert_overlap.py, the end-to-end rate with ground truth on
#     the CPUs overlapped with fitting on the GPU, next to the fit-only rate (needs .gpu-site).
# Exit status 1 if a step failed or was cut short.
#
# On a CPU machine (a dry run with small sizes; the fused kernel then runs under Triton's
# interpreter in the tests only):
#     OUT=/tmp/gc DEVICE=cpu KS="4" BATCH=64 EPOCH_STEPS=4 REPEATS=1 THREADS=1 \
#       VARIANTS="engine lean engine-bf16" PRECISION_ARGS="--limit 1 --samples 4096 --pool 40000 \
#       --bound-grid 0 --surface-points 2000 --epochs 2 --workers 2 --variants torch torch-autocast" \
#       OVERLAP_ARGS="--k 8 --batch 256 --fit-samples 1024 --samples 4096 --pool 40000 --bound-grid 0 \
#       --surface-points 2000 --workers 1 --gt-seconds 15 --overlap-seconds 15 --fit-seconds 5 --limit 1" \
#       TOTAL=1500 TEST_TIMEOUT=600 BENCH_TIMEOUT=400 PRECISION_TIMEOUT=300 OVERLAP_TIMEOUT=300 \
#       bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT to a writable directory for the results}
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
KS=${KS:-8192 2048}  # the largest first: a run cut short keeps what matters most
BATCH=${BATCH:-2048}
EPOCH_STEPS=${EPOCH_STEPS:-32}
REPEATS=${REPEATS:-2}
VARIANTS=${VARIANTS:-engine engine-fused lean engine-bf16 engine-fused-bf16 lean-bf16}
THREADS=${THREADS:-}
PRECISION_ARGS=${PRECISION_ARGS:---epochs 50 --variants torch fused-fp32 fused-bf16 torch-autocast fused-tf32}
OVERLAP_ARGS=${OVERLAP_ARGS:---gt-seconds 20 --overlap-seconds 30 --fit-seconds 8}
TOTAL=${TOTAL:-370}
TEST_TIMEOUT=${TEST_TIMEOUT:-110}  # ~20 fused-kernel compiles on the first run
BENCH_TIMEOUT=${BENCH_TIMEOUT:-100}
PRECISION_TIMEOUT=${PRECISION_TIMEOUT:-70}
OVERLAP_TIMEOUT=${OVERLAP_TIMEOUT:-90}
SITE=${SITE:-$PWD/.gpu-site}
export PYTHONPATH="$PWD/platform${PYTHONPATH:+:$PYTHONPATH}"
if [ -d "$SITE/lib" ]; then
    export PYTHONPATH="$PYTHONPATH:$SITE/lib"  # after platform and the machine's own packages
fi
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$OUT"
status=0
started=$(date +%s)
# A step's time limit: its own cap, or what is left of TOTAL if that is less.
cap() {
    local left=$(( TOTAL - ($(date +%s) - started) ))
    [ "$left" -lt "$1" ] && echo $(( left > 1 ? left : 1 )) || echo "$1"
}

{
    date -u
    git rev-parse HEAD 2>/dev/null || true
    "$PY" -c 'import sys, torch, numpy; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "numpy", numpy.__version__); print("device", torch.cuda.get_device_name() if torch.cuda.is_available() else "no CUDA device")'
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
    echo "cpus $(nproc)"
    for m in triton scipy pytest trimesh igl fsspec yaml ray mlflow; do
        "$PY" -c "import $m; print('$m', getattr($m, '__version__', 'present'), $m.__file__)" 2>/dev/null \
            || echo "$m absent"
    done
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
    timeout "$(cap "$TEST_TIMEOUT")" "$PY" -m pytest -p no:cacheprovider -q -rs tests/fit \
        > "$OUT/tests.log" 2>&1 || status=1
else
    # No pytest on the machine: run the GPU tests with a stand-in for the few pytest names they use.
    timeout "$(cap "$TEST_TIMEOUT")" "$PY" - > "$OUT/tests.log" 2>&1 <<'EOF' || status=1
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
# shellcheck disable=SC2086  # KS and VARIANTS are word lists on purpose
timeout "$(cap "$BENCH_TIMEOUT")" "$PY" benchmarks/fit_speed.py --device "$DEVICE" --ks $KS --batch "$BATCH" \
    --epoch-steps "$EPOCH_STEPS" --repeats "$REPEATS" --variants $VARIANTS ${THREADS:+--threads $THREADS} \
    --json "$OUT/fit_speed.json" \
    > "$OUT/fit_speed.log" 2>&1 || status=1
cat "$OUT/fit_speed.log"

if "$PY" -c "import igl, fsspec" 2>/dev/null; then
    echo "== precision: surface errors per MLP path (device $DEVICE)"
    # shellcheck disable=SC2086  # PRECISION_ARGS is a word list on purpose
    timeout "$(cap "$PRECISION_TIMEOUT")" "$PY" benchmarks/fit_precision.py --device "$DEVICE" $PRECISION_ARGS \
        --json "$OUT/precision.json" > "$OUT/precision.log" 2>&1 || status=1
    tail -n 12 "$OUT/precision.log"
    echo "== overlap: ground truth on the CPUs with fitting on the device"
    # shellcheck disable=SC2086  # OVERLAP_ARGS is a word list on purpose
    timeout "$(cap "$OVERLAP_TIMEOUT")" "$PY" benchmarks/convert_overlap.py --device "$DEVICE" $OVERLAP_ARGS \
        --json "$OUT/overlap.json" > "$OUT/overlap.log" 2>&1 || status=1
    tail -n 12 "$OUT/overlap.log"
else
    echo "== precision and overlap skipped: no libigl/fsspec (carry .gpu-site: bash benchmarks/gpu_site.sh)"
    status=1
fi
echo "== done in $(( $(date +%s) - started )) s, status $status"
exit $status
