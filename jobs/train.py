"""Ray job entrypoint: train inr2vec on a weight dataset, evaluate it, register the encoder.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python jobs/train.py --config zoo/configs/inr2vec/kicad_default.yaml dataset.uri=s3://inrzoo/datasets/kicad.zarr

A TorchTrainer on `scaling.workers` workers (DDP) streams the train split from Zarr, writes a
checkpoint to `checkpoint.storage_path` every epoch and logs the epoch to MLflow. Resubmitting
the same command after a failure or `ray job stop` resumes from the last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys

from inrzoo.zoo.inr2vec.jobs import run_training_job
from inrzoo.zoo.inr2vec.job_config import load_job_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="zoo config (zoo/configs/inr2vec/*.yaml)")
    parser.add_argument("--out", default=None, help="also keep the evaluation PNGs in this folder")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. dataset.uri=...")
    args = parser.parse_args(argv)
    summary = run_training_job(load_job_config(args.config, args.overrides), args.out)
    registration = summary.registration
    print("[inr2vec] summary " + json.dumps({
        "run": summary.run_name, "epochs": summary.epochs, "mlflow_run_id": summary.mlflow_run_id,
        "metrics": summary.metrics,
        "registered": None if registration is None else {"name": registration.name, "version": registration.version,
                                                         "promoted": registration.promoted},
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
