"""Ray job entrypoint: one downstream task of a trained zoo model.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- python jobs/tasks.py \
        classification --model models:/inr2vec-kicad@champion --config zoo/configs/inr2vec/kicad_default.yaml \
        data.uri=s3://inrzoo/datasets/kicad_inr2vec.zarr

TASK is any name of the task registry (classification, retrieval, reconstruction, plots,
generation, transfer, segmentation, and the models' own, such as inr2vec's multitask). The zoo
config gives the data, the split and the task's settings (`tasks.<TASK>`); metrics and files go
to an MLflow run (its tracking section).
"""

from __future__ import annotations

import sys

from inrzoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["task", *sys.argv[1:]]))
