"""Ray job entrypoint: convert a shape collection into a weight dataset (`inrzoo convert`).

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python jobs/convert.py --config jobs/configs/davies.yaml source.uri=s3://bucket/meshes output.uri=s3://bucket/ds.zarr

Resubmitting the same command resumes the conversion (finished rows are skipped).
"""

from __future__ import annotations

import sys

from inrzoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["convert", *sys.argv[1:]]))
