#!/usr/bin/env bash
# DrapeNet garment evidence on the GPU machine (one NVIDIA H200): the thesis's sizes (EdgeConvs
# 64-64-128-256, decoder 512 x 5, 10,000 encoder points and 20,000 queries per garment, batches of 4)
# for a few epochs per category, then the same tasks and report as benchmarks/drapenet_garments.py on
# the CPU. That machine has neither Ray nor MLflow, so it trains in process (--in-process: the zoo
# core's epoch loop and tasks; no registration). Untested on the GPU machine so far.
#
# The machine lacks six packages; fetch their Python 3.12 wheels here once, from the repository root
# (see /work/.library/device/README.md):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl zarr==3.1.6 numcodecs==0.16.6 donfig==0.8.1.post1 google-crc32c==1.9.0 libigl==2.6.3 trimesh==5.2.0
# then run this script there with carry [".whl"] and timeout_s 600, e.g.
#   TOP_EPOCHS=20 BOTTOM_EPOCHS=20 bash benchmarks/drapenet_garments_gpu.sh
# The garments (465, on the stored average body: no anny needed) and their samples are made first
# (14 processes). What it prints is the evidence; $OUT/log holds everything and $OUT/evidence.tar
# the summaries (summary.json per category) and the pictures (at most 8 files come back from $OUT).
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target /tmp/inrzoo .
export PYTHONPATH=/tmp/inrzoo:/tmp/site PYTHONUNBUFFERED=1
W=/tmp/drapenet
OUTDIR=${OUT:-$W/back}
mkdir -p "$OUTDIR"
A=(--work "$W" --out "$W/out" --budget thesis --gpu --in-process --threads 16 --make-workers 14)
{
  python3 benchmarks/drapenet_garments.py train "${A[@]}" --category top --epochs "${TOP_EPOCHS:-20}"
  python3 benchmarks/drapenet_garments.py train "${A[@]}" --category bottom --epochs "${BOTTOM_EPOCHS:-20}"
  python3 benchmarks/drapenet_garments.py report "${A[@]}" --resolution 96
} 2>&1 | tee "$OUTDIR/log"
(cd "$W/out" && tar cf "$OUTDIR/evidence.tar" $(find . -name '*.png' -o -name summary.json))
