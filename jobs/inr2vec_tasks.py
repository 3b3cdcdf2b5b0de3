"""Ray job entrypoint: one evaluation or downstream task of a trained inr2vec.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- python jobs/inr2vec_tasks.py \
        classify --model models:/inr2vec-kicad@champion --config zoo/configs/inr2vec/kicad_default.yaml \
        dataset.uri=s3://inrzoo/datasets/kicad_inr2vec.zarr

Tasks: reconstruct, classify (with the raw-weight baseline and chance), retrieve (mAP@1/5/10),
plots (interpolation strip, t-SNE), generate (latent-GAN decoded to meshes), transfer (to a
second model and dataset of the same shapes), segment (datasets with part labels), multitask
(joint training, with segmentation where the dataset has part labels; --holdout TASK for
the hold-out protocol). The zoo config gives the dataset, the
split and the evaluation settings; metrics and files go to an MLflow run (tracking section).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from inrzoo import tracking
from inrzoo.store import open_weights
from inrzoo.zoo.inr2vec import downstream, part_tasks, task_jobs
from inrzoo.zoo.inr2vec.config import GanConfig, MultiTaskConfig, SegmentationConfig, TransferConfig
from inrzoo.zoo.inr2vec.job_config import load_job_config
from inrzoo.zoo.inr2vec.splits import split_views

TASKS = ("reconstruct", "classify", "retrieve", "plots", "generate", "transfer", "segment", "multitask")


def run_task(args: argparse.Namespace, out_dir: Path) -> dict[str, float]:
    cfg = load_job_config(args.config, args.overrides)
    model = task_jobs.load_model(args.model)
    views = split_views(open_weights(cfg.dataset.uri, cfg.dataset.storage_options), cfg.dataset)
    ev = cfg.evaluation
    if args.task == "reconstruct":
        return downstream.reconstruction_metrics(model, views["test"], ev)
    if args.task in ("classify", "retrieve", "plots"):
        data = {k: downstream.embed_view(model, v, ev.batch_size, with_flat=ev.raw_weight_baseline and args.task == "classify")
                for k, v in views.items()}
        if args.task == "classify":
            return downstream.classification_metrics(data["train"], data["test"], len(views["train"].label_names),
                                                     ev.classifier, data["val"], raw_weights=ev.raw_weight_baseline)
        if args.task == "retrieve":
            return downstream.retrieval_metrics(data["test"])
        paths = downstream.plot_artifacts(model, data["test"], out_dir, views["train"].label_names, ev.mesh_resolution)
        return {"plots": float(len(paths))}
    if args.task == "generate":
        return task_jobs.generation_task(model, views["train"], GanConfig(epochs=args.epochs), out_dir,
                                         args.samples, ev.mesh_resolution)
    if args.task == "transfer":
        if not (args.target_model and args.target_dataset):
            raise SystemExit("transfer needs --target-model and --target-dataset")
        target_cfg = load_job_config(args.config, [*args.overrides, f"dataset.uri={args.target_dataset}"])
        target_views = split_views(open_weights(target_cfg.dataset.uri, target_cfg.dataset.storage_options),
                                   target_cfg.dataset)
        return task_jobs.transfer_task(model, views, task_jobs.load_model(args.target_model), target_views,
                                       TransferConfig(epochs=args.epochs))
    if args.task == "segment":
        return part_tasks.segmentation_task(model, views, SegmentationConfig(epochs=args.epochs))
    return part_tasks.multitask_task(model, views, MultiTaskConfig(), args.epochs, holdout=args.holdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--model", required=True, help="models:/NAME@ALIAS or a save_inr2vec safetensors URI")
    parser.add_argument("--config", required=True, help="zoo config (zoo/configs/inr2vec/*.yaml)")
    parser.add_argument("--out", default=None, help="folder for PNGs and meshes (default: a temporary one)")
    parser.add_argument("--epochs", type=int, default=100, help="training epochs of the task's head / GAN")
    parser.add_argument("--samples", type=int, default=8, help="generate: meshes to decode")
    parser.add_argument("--target-model", default="", help="transfer: the target embedding space's model")
    parser.add_argument("--target-dataset", default="", help="transfer: the target INRs of the same shapes")
    parser.add_argument("--holdout", choices=("classification", "segmentation"), default=None,
                        help="multitask: the task held out (trained afterwards on the frozen encoder)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="inr2vec-task-") as tmp:
        out_dir = Path(args.out or tmp)
        metrics = run_task(args, out_dir)
        print(f"[inr2vec] {args.task}: " + json.dumps(metrics), flush=True)
        cfg = load_job_config(args.config, args.overrides)
        if cfg.tracking.enabled:
            import mlflow

            tracking.use_experiment(tracking.tracking_uri(cfg.tracking.tracking_uri), cfg.tracking.experiment)
            with mlflow.start_run(run_name=f"{args.task} {args.model}"):
                mlflow.set_tags({"inrzoo.kind": f"inr2vec-{args.task}", "inrzoo.model_source": args.model,
                                 "inrzoo.dataset": cfg.dataset.uri})
                mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
                if out_dir.exists() and any(out_dir.iterdir()):
                    mlflow.log_artifacts(str(out_dir), artifact_path=args.task)
    return 0


if __name__ == "__main__":
    sys.exit(main())
