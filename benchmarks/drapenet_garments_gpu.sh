#!/usr/bin/env bash
# DrapeNet garment evidence on the GPU machine (one NVIDIA H200): the thesis's model sizes
# (decoder width 512, 10,000 encoder points, 20,000 queries per garment, batches of 4) for a few
# minutes per category, then the same evaluation as benchmarks/drapenet_garments.py on the CPU.
#
# The machine lacks six pure or binary packages; fetch their Python 3.12 wheels here once, from the
# repository root (see /work/.library/device/README.md):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl zarr==3.1.6 numcodecs==0.16.6 donfig==0.8.1.post1 google-crc32c==1.9.0 libigl==2.6.3 trimesh==5.2.0
# then run this script there with carry [".whl"] and timeout_s 600, e.g.
#   TOP_MINUTES=3 BOTTOM_MINUTES=2 EVAL_LIMIT=6 bash benchmarks/drapenet_garments_gpu.sh
# What it prints (and $OUT/results.json, $OUT/*.png) is the evidence; $OUT/log holds everything.
set -euo pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
python3 -m pip install -q --no-index --no-deps --no-build-isolation --no-compile --target /tmp/inrzoo .
export PYTHONPATH=/tmp/inrzoo:/tmp/site PYTHONUNBUFFERED=1
W=/tmp/drapenet
A=(--work "$W" --garments "$W/garments" --out "${OUT:-$W/out}" --device cuda --threads 16
   --hidden 512 --points-encoder 10000 --points-decoder 20000 --batch 4)
{
  python3 benchmarks/drapenet_garments.py prepare "${A[@]}" --queries "${QUERIES:-40000}" --workers 14
  python3 benchmarks/drapenet_garments.py train "${A[@]}" --category top --minutes "${TOP_MINUTES:-3}"
  python3 benchmarks/drapenet_garments.py train "${A[@]}" --category bottom --minutes "${BOTTOM_MINUTES:-2}"
  python3 benchmarks/drapenet_garments.py evaluate "${A[@]}" --resolution 96 --eval-limit "${EVAL_LIMIT:-6}"
} 2>&1 | tee "${OUT:-$W}/log"
