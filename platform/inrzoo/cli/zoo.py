"""`inrzoo train`, `inrzoo task` and `inrzoo zoo ...`: the model zoo (the same dispatch as jobs/)."""

from __future__ import annotations

import argparse
import json
import logging

from inrzoo.cli.common import add_overrides, emit

log = logging.getLogger(__name__)


def add_commands(commands) -> None:
    from inrzoo.zoo.core.registry import names

    train = commands.add_parser("train", help="train a zoo model from its config, evaluate and register it",
                                description="Train the zoo model named by the config's model.name (Ray Train); "
                                            "running it again resumes from the last training state.")
    train.add_argument("--config", required=True, help="zoo config, e.g. zoo/configs/inr2vec/smoke.yaml")
    train.add_argument("--out", default=None, help="also keep the evaluation files (PNGs) in this folder")
    add_overrides(train)
    train.set_defaults(run=run_train)

    task = commands.add_parser("task", help="run one downstream task of a trained zoo model",
                               description="Run one task of the task registry on a trained model and the data "
                                           "of a zoo config; settings from the config's tasks.<TASK>.")
    task.add_argument("task", choices=names("task"), metavar="TASK", help=f"one of: {', '.join(names('task'))}")
    task.add_argument("--model", required=True, help="models:/NAME@ALIAS (the MLflow registry) or a model file URI")
    task.add_argument("--config", required=True, help="zoo config giving the data and the task's settings")
    task.add_argument("--out", default=None, help="keep the task's files (PNGs, meshes) in this folder")
    add_overrides(task)
    task.set_defaults(run=run_task)

    zoo = commands.add_parser("zoo", help="the registered model zoo (MLflow registry)")
    zoo_commands = zoo.add_subparsers(dest="zoo_command", required=True, metavar="ZOO_COMMAND")
    zoo_list = zoo_commands.add_parser("list", help="list registered models, versions and aliases")
    zoo_list.add_argument("--tracking-uri", default="",
                          help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else the embedded SQLite store "
                               "under INRZOO_STATE_DIR, .inrzoo/ by default)")
    zoo_list.set_defaults(run=run_zoo_list)


def run_train(args: argparse.Namespace) -> int:
    from inrzoo.zoo.core.job import run_training_job
    from inrzoo.zoo.core.job_config import load_job_config

    summary = run_training_job(load_job_config(args.config, args.overrides), args.out)
    registration = summary.registration
    emit(json.dumps({
        "run": summary.run_name, "epochs": summary.epochs, "mlflow_run_id": summary.mlflow_run_id,
        "metrics": summary.metrics,
        "registered": None if registration is None else {"name": registration.name, "version": registration.version,
                                                         "promoted": registration.promoted},
    }))
    return 0


def run_task(args: argparse.Namespace) -> int:
    from inrzoo.zoo.core.job_config import load_job_config
    from inrzoo.zoo.core.tasks import run_task_job

    metrics = run_task_job(args.task, load_job_config(args.config, args.overrides), args.model, args.out)
    emit(json.dumps({"task": args.task, "model": args.model, "metrics": metrics}))
    return 0


def run_zoo_list(args: argparse.Namespace) -> int:
    from inrzoo.registry import list_zoo

    rows = list_zoo(args.tracking_uri)
    if not rows:
        emit("no registered models")
    for row in rows:
        emit(f"{row['name']}  v{row['version']}  aliases={','.join(row['aliases']) or '-'}  {row['description']}")
    return 0
