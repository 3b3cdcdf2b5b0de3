#!/usr/bin/env bash
# Builds .gpu-site/ (git-ignored): what the GPU checks need beyond a bare CUDA machine's torch,
# numpy and scipy, for that machine's Python (default 3.12): the ground-truth dependencies of
# inrzoo.geometry and inrzoo.sampling (libigl, fsspec, trimesh, PyYAML at requirements.lock's
# versions, wheels for linux x86_64, no dependencies pulled) and copies of the development
# meshes (../shared/data/{classic,printables}, about 8 MB). About 30 MB: small enough for the
# device tool's `carry`. Run here (it needs PyPI), then carry ".gpu-site" with the GPU run;
# benchmarks/gpu_check.sh puts it on PYTHONPATH when present.
#
#     bash benchmarks/gpu_site.sh     # PYTHON_VERSION=3.12 DATA=../shared/data SITE=.gpu-site
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON_VERSION=${PYTHON_VERSION:-3.12}
DATA=${DATA:-../shared/data}
PIP=${PIP:-.venv/bin/pip}
SITE=${SITE:-.gpu-site}
pins=$(grep -E '^(libigl|fsspec|trimesh|PyYAML)==' requirements.lock)
rm -rf "$SITE"
# shellcheck disable=SC2086  # pins is a word list
"$PIP" install --quiet --target "$SITE/lib" --no-deps --only-binary=:all: --implementation cp \
    --python-version "$PYTHON_VERSION" --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 --platform any $pins
# Headers, static libraries and build files the wheels bring along: not needed to import them.
rm -rf "$SITE"/lib/{include,lib64,share,bin} "$SITE"/lib/embree-vars.*
mkdir -p "$SITE/data"
for folder in classic printables; do
    cp -r "$DATA/$folder" "$SITE/data/$folder"
done
echo "$pins" | tr '\n' ' ' > "$SITE/PINS"
du -sh "$SITE"
