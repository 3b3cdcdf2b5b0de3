"""Ray job entrypoint: train any zoo model on its data, evaluate it, register it.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python jobs/train.py --config zoo/configs/inr2vec/kicad_default.yaml data.uri=s3://inrzoo/datasets/kicad.zarr

The config's `model.name` picks the model (inrzoo.zoo.core.registry). A TorchTrainer on
`scaling.workers` workers (DDP) streams the train split, writes a training state to
`checkpoint.storage_path` every epoch and logs the epoch to MLflow. Resubmitting the same
command after a failure or `ray job stop` resumes from the last training state.
"""

from __future__ import annotations

import sys

from inrzoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
