"""Evidence for NetSpace on a zoo of digit classifiers (thesis figs. 4.4, 4.6, table 4.1, latent optimization).

    .venv/bin/python benchmarks/netspace_classifiers.py [--zoo out/zoos/digits_classifiers.zarr] [--out /tmp/netspace_cls]
    .venv/bin/python benchmarks/netspace_classifiers.py --gpu      # the thesis's model sizes and lr, on a GPU

1. builds the classifier zoo with the Ray job's library function (jobs/configs/digits_classifiers.yaml:
   lenet, plain_cnn, resnet8, resnet14 x 40 instances, 1-60 epochs, on scikit-learn's digits);
   an existing zoo of the same config is reused;
2. single architecture (zoo/configs/netspace/digits_single.yaml: resnet8, KD to each input
   network; lenet on a CPU), trained through the zoo core (Ray Train); prints decoded against target accuracy
   of every held-out network, and accuracy along the embedding path against the weight path
   between the least and the most accurate held-out network (PNG written);
3. several architectures (zoo/configs/netspace/digits_multi.yaml: the four families; the three
   smaller ones on a CPU; ClassId head, interpolation loss, the zoo's best training network as teacher): ClassId and decoded accuracy per
   architecture on held-out networks, the path between the boundary architectures, latent-space
   optimization from the least accurate held-out network of each architecture (initial ->
   optimized test accuracy), networks sampled from the space.

Accuracies are on the 359 digits test images no zoo network trained on. On a CPU the model and
the number of steps are far below the thesis's (CPU_BUDGET, printed); --gpu runs the configs as
they are (thesis sizes) with scaling.use_gpu.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# CPU budget (thesis: embedding 4096 with encoder 128-256-512, decoder 256 per row and
# 128/512/256, Adam 1e-4, 1000 epochs of the image set (about 390 steps each on CIFAR-10) on a GPU).
# Adam 1e-3 here: at 1e-4 the decoded networks barely move in the steps a shared 2-core CPU affords.
CPU_BUDGET = ["model.encoder.embedding_size=1024", "model.encoder.channels=[32,64,128]", "model.decoder.seed_side=32",
              "model.decoder.row_channels=64", "model.decoder.stage_channels=[32,128,64]",
              "train.optimizer.lr=0.001", "scaling.torch_threads=1"]
# On the CPU the single space is the lenet family (PRep 8 x 1,024, three times cheaper a step than
# resnet8's) and the multi space the three smaller families (lenet, plain_cnn, resnet8; PRep 20 x 1,024).
SINGLE_CPU = ["data.options.groups=[0]", "model.prep.width=1024", "train.epochs=15", "train.batch_size=4"]
MULTI_CPU = ["data.options.groups=[0,1,2]", "model.prep.width=1024", "train.epochs=12"]
LATENT_CPU = ["tasks.netspace_latent.optimization.steps=300", "tasks.netspace_latent.optimization.lr=0.001"]
# GPU: thesis sizes; epochs cut to fit a 15-minute device slot (single 3,000 steps, multi 4,800).
SINGLE_GPU, MULTI_GPU = ["train.epochs=100"], ["train.epochs=20"]


def build_zoo(uri: str) -> float:
    from inrzoo.classifiers import build_classifier_zoo, load_zoo_config

    started = time.perf_counter()
    report = build_classifier_zoo(load_zoo_config(str(REPO / "jobs/configs/digits_classifiers.yaml"),
                                                  [f"output.uri={uri}"]))
    print(f"zoo {uri}: {report['rows']} networks, {report['trained']} trained now "
          f"({time.perf_counter() - started:.0f}s)", flush=True)
    return time.perf_counter() - started


def train(config: str, overrides: list[str], out: Path) -> tuple[dict, float]:
    from inrzoo.zoo.core import load_job_config
    from inrzoo.zoo.core.job import run_training_job

    started = time.perf_counter()
    summary = run_training_job(load_job_config(str(REPO / config), overrides), out_dir=out)
    return summary.metrics | {"epochs": summary.epochs}, time.perf_counter() - started


def decoded_rows(out: Path) -> list[dict]:
    with (out / "netspace_decoding.csv").open() as handle:
        return list(csv.DictReader(handle))


def report_single(metrics: dict, rows: list[dict], seconds: float, out: Path) -> None:
    print(f"\n== one architecture ({rows[0]['arch']}): {metrics['epochs']} epochs in {seconds:.0f}s")
    print("| held-out network | target accuracy | decoded accuracy |\n|---|---|---|")
    for r in sorted(rows, key=lambda r: float(r["target_accuracy"])):
        print(f"| {r['id']} | {float(r['target_accuracy']):.3f} | {float(r['decoded_accuracy']):.3f} |")
    print(f"mean target {metrics['target_accuracy']:.3f}, decoded {metrics['decoded_accuracy']:.3f} "
          f"(ratio {metrics['decoded_to_target']:.3f}), mean |target - decoded| {metrics['accuracy_gap']:.3f}")
    print(f"interpolation least -> most accurate held-out network, mean accuracy strictly inside the path: "
          f"embedding {metrics['embedding_path_accuracy']:.3f} (min {metrics['embedding_path_min_accuracy']:.3f}), "
          f"weights {metrics['weight_path_accuracy']:.3f} (min {metrics['weight_path_min_accuracy']:.3f}); "
          f"strip {out / 'netspace_interpolation.png'}")
    print(f"latent optimization from the least accurate held-out network: input {metrics['arch0_input_accuracy']:.3f}, "
          f"decoded {metrics['arch0_initial_accuracy']:.3f} -> optimized {metrics['arch0_optimized_accuracy']:.3f}")
    print(f"sampled networks: mean accuracy {metrics['sampled_accuracy']:.3f} "
          f"(min {metrics['sampled_min_accuracy']:.3f}, max {metrics['sampled_max_accuracy']:.3f})")


def report_multi(metrics: dict, rows: list[dict], seconds: float, out: Path) -> None:
    archs = list(dict.fromkeys(r["arch"] for r in rows))
    print(f"\n== {len(archs)} architectures: {metrics['epochs']} epochs in {seconds:.0f}s")
    print("| architecture | ClassId accuracy | target accuracy | decoded accuracy | latent: decoded -> optimized |")
    print("|---|---|---|---|---|")
    for a, name in enumerate(archs):
        print(f"| {name} | {metrics[f'arch{a}_class_id_accuracy']:.3f} | {metrics[f'arch{a}_target_accuracy']:.3f} | "
              f"{metrics[f'arch{a}_decoded_accuracy']:.3f} | {metrics[f'arch{a}_initial_accuracy']:.3f} -> "
              f"{metrics[f'arch{a}_optimized_accuracy']:.3f} |")
    print(f"ClassId accuracy over the held-out networks {metrics['class_id_accuracy']:.3f} (chance {1 / len(archs):.3f})")
    print(f"path {archs[0]} -> {archs[-1]}: {metrics['path_architectures']:.0f} architectures decoded along it, "
          f"{metrics['path_arch_changes']:.0f} changes, mean accuracy inside {metrics['embedding_path_accuracy']:.3f} "
          f"(min {metrics['embedding_path_min_accuracy']:.3f}); strip {out / 'netspace_interpolation.png'}")
    shares = ", ".join(f"{name} {metrics[f'sampled_arch{a}_share']:.2f}" for a, name in enumerate(archs))
    print(f"sampled networks: mean accuracy {metrics['sampled_accuracy']:.3f}; architectures {shares}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", default=str(REPO / "out/zoos/digits_classifiers.zarr"))
    parser.add_argument("--out", default="/tmp/netspace_classifiers")
    parser.add_argument("--gpu", action="store_true", help="thesis sizes, scaling.use_gpu=true")
    parser.add_argument("--only", choices=["single", "multi"], default=None)
    parser.add_argument("--epochs", type=int, default=0, help="override the budget's train.epochs (a run of the "
                        "same config resumes from its last training state)")
    args = parser.parse_args(argv)
    zoo_seconds = build_zoo(args.zoo)
    common = [f"data.uri={args.zoo}", "tracking.enabled=false"]
    common += ["scaling.use_gpu=true", "scaling.torch_threads=4"] if args.gpu else CPU_BUDGET + LATENT_CPU
    runs = {"single": ("zoo/configs/netspace/digits_single.yaml", SINGLE_GPU if args.gpu else SINGLE_CPU, report_single),
            "multi": ("zoo/configs/netspace/digits_multi.yaml", MULTI_GPU if args.gpu else MULTI_CPU, report_multi)}
    started = time.perf_counter()
    for name, (config, budget, report) in runs.items():
        if args.only and name != args.only:
            continue
        out = Path(args.out) / name
        epochs = [f"train.epochs={args.epochs}"] if args.epochs else []
        metrics, seconds = train(config, common + budget + epochs, out)
        report(metrics, decoded_rows(out), seconds, out)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    print(f"\nbudget: {'GPU, the configs as they are (thesis sizes)' if args.gpu else ' '.join(CPU_BUDGET + LATENT_CPU)}; "
          f"single {' '.join(SINGLE_GPU if args.gpu else SINGLE_CPU)}, multi {' '.join(MULTI_GPU if args.gpu else MULTI_CPU)}"
          f"{f'; train.epochs={args.epochs} for both' if args.epochs else ''}; zoo {zoo_seconds:.0f}s, NetSpace "
          f"{time.perf_counter() - started:.0f}s. Thesis: embedding 4096, PRep width 10,000, 1000 epochs on a GPU.")


if __name__ == "__main__":
    main()
