"""Weight-space learners on the same bytes: KiCad 3D packages (24 classes, 2,086 parts).

    .venv/bin/python benchmarks/weightspace_kicad.py [--out /tmp/weightspace_kicad] [--quick | --slice 24:8,2,4] [--step all]

Steps (each resumes or reuses what an earlier run left in --out):
1. data: Debian's kicad-packages3d fetched and unpacked into --cache (`apt-get download`,
   `dpkg -x`), the parts of benchmarks/data/kicad_split.json checked against their sha256;
2. convert: the parts (collection `kicad`, the committed split) plus one augmented copy each,
   with the inr2vec preset at the budget CONVERT_BUDGET (resumable Zarr dataset);
3. points: each row's own surface samples (the row's shape, augmentation and normalization
   replayed from its seed) for PointNet;
4. methods: raw flattened weights + MLP, PointNet, an NFN (permutation-equivariant) network,
   inr2vec: classification accuracy on the test split, retrieval mAP@1/5/10 over the test split
   with each query's own augmented copy left out of the gallery, inr2vec's reconstruction Chamfer.
The table is printed and written with the classes, parts, split checksum and budget to
benchmarks/results/weightspace_kicad.json (--quick: weightspace_kicad_quick.json; --slice C:T,V,E, the first C
classes with T, V and E parts each in train, val and test: weightspace_kicad_slice_C_T_V_E.json).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import kicad_data

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
log = logging.getLogger("weightspace_kicad")

# The thesis (De Luigi, app. C.5): SIREN 4x512, 500 steps of 10,000 points (Adam 1e-4) from a
# 500K-point mixture. Here, chosen for a 2-core machine shared by 8 workers: SIREN 4x64 (1/64 of
# the hidden-to-hidden weights), 100 steps of 2,048 points from a 16K-point mixture with the
# thesis' proportions; lr 1e-3 because 5x fewer steps than the thesis (measured on 16 parts:
# sign accuracy 0.97 at |sdf| > 0.01, vs 0.78 with lr 1e-4 at the same budget).
# No Chamfer check (eval.chamfer=none; the surface error stays): at this budget it cost 8x the
# fit (profiled on 16 parts, 32 rows: level-set Chamfer 3.3 s per row, fit 0.4 s), and the table
# uses only the surface error of the conversion.
INR_WIDTH = 64  # hidden units of the SIREN's 4 layers (--inr-width: 128 tests whether wider INRs favour inr2vec)
FIT_STEPS = 100  # --fit-steps: whether weights further from the shared init favour inr2vec
CONVERT_BUDGET = [
    f"fit.arch.hidden=[{','.join([str(INR_WIDTH)] * 4)}]", f"fit.max_steps={FIT_STEPS}", "fit.batch_size=2048",
    "fit.optimizer.lr=0.001",
    "sampler.options={counts: [8000, 6000, 1000], n_uniform: 1000, n_base: 5000}", "eval.surface_points=2000",
    "eval.chamfer=none",
    "output.chunk_rows=8", "augment.copies=1", "augment.jitter=0.005", "tracking.enabled=false",
]
QUICK = "6:8,2,4"  # classes:train,val,test parts per class
N_POINTS = 1024  # surface samples stored per row (PointNet's paper input size)
METHODS = ("chance", "raw_mlp", "nfn", "pointnet", "inr2vec")  # the table; ABLATIONS (below) are item 4


BUDGETS = ("full", "reduced", "quick")


def method_budget(profile: str) -> dict[str, Any]:
    """Training budgets per method (chosen for this machine; the thesis' are in the note). "reduced"
    (chosen): what fits in ~40 min of wall time when 2 shared cores run at a load of ~30 and each
    niced process gets ~5% of a core; the inr2vec ablations then train as long as inr2vec."""
    from inrzoo.zoo.tasks.classification import ClassifierConfig
    from inrzoo.zoo.nfn.network import NFNConfig
    from inrzoo.zoo.tasks.training import TrainConfig

    epochs = (lambda full, reduced, quick: {"full": full, "reduced": reduced, "quick": quick}[profile])  # noqa: E731
    return {
        "points": 256,  # of the N_POINTS stored (PointNet's paper: 1024; 7x the cost here)
        "classifier": ClassifierConfig(epochs=epochs(60, 20, 15)),  # thesis: 150 epochs, OneCycle, lr 1e-4
        "pointnet": TrainConfig(epochs=epochs(12, 3, 3), batch_size=32, lr=1e-3),
        "nfn": TrainConfig(epochs=epochs(20, 4, 5), batch_size=32, lr=1e-3),
        "nfn_config": NFNConfig(),
        "inr2vec_model": {
            "name": "inr2vec",
            # the INRs are 64 wide instead of 512: encoder stages halved (thesis 512-512-1024-1024 -> 1024)
            "encoder": {"hidden_dims": [256, 256, 512, 512], "embedding_dim": 512},
            "decoder": {"hidden_dim": 256},  # thesis: 512
            "teacher": {"num_queries": 512},  # thesis: 10,000 queries per INR and step
        },
        # thesis: AdamW lr 1e-4, weight decay 1e-2, batch 16, 300 epochs. Ours (chosen by
        # inr2vec_diagnosis.py on the full split): lr 1e-3, 30 epochs, classifier 0.504 (val KL 0.059;
        # blind decoder 0.153). The earlier table's 1e-4 and 10 epochs gave 0.289.
        "inr2vec_train": {"epochs": epochs(30, 2, 3), "batch_size": 16,
                          "optimizer": {"name": "adamw", "lr": 1e-3, "weight_decay": 1e-2}},
        "ablation_epochs": epochs(4, 2, 2),  # the inr2vec ablations train shorter (item 4; reduced: as long)
        "reconstruction_shapes": epochs(16, 8, 4),  # test INRs decoded by inr2vec and compared (Chamfer-L1)
        "mesh_resolution": epochs(64, 48, 32),
    }


# inr2vec variants: (label, encoder overrides, optimizer lr or None, train copies, full length).
INR2VEC_VARIANTS = {
    # the zoo's default input (the thesis': hidden layers as stored); standardizing it cost the
    # KiCad slice 24:8,2,4 most of its linear-probe accuracy (0.427 -> 0.135, results/*slice*)
    "inr2vec": ("inr2vec (thesis input: hidden layers, as stored)", {}, None, True, True),
    "inr2vec_std": ("inr2vec, standardized input (hidden layers)", {"input_normalization": "standardize"}, None,
                    True, False),
    "inr2vec_std_all": ("inr2vec, standardized input, all layers", {"input_normalization": "standardize",
                                                                  "layers": "all"}, None, True, False),
    "inr2vec_std_all_lr": ("inr2vec, standardized, all layers, lr 1e-3", {"input_normalization": "standardize",
                                                                         "layers": "all"}, 1e-3, True, False),
    "inr2vec_tensor_scale": ("inr2vec, every tensor at unit RMS (hidden layers)", {"input_normalization": "tensor_scale"},
                             None, True, False),
    "inr2vec_centered": ("inr2vec, centered delta beside the training mean (hidden layers)",
                         {"input_normalization": "centered"}, None, True, False),
    "inr2vec_std_all_originals": ("inr2vec, standardized, all layers, no augmented copies",
                                  {"input_normalization": "standardize", "layers": "all"}, None, False, False),
}
ABLATIONS = ("raw_mlp_hidden", "raw_mlp_unscaled", "inr2vec_untrained", *[k for k in INR2VEC_VARIANTS if k != "inr2vec"])


def convert_budget(width: int = INR_WIDTH, steps: int = FIT_STEPS) -> list[str]:
    """CONVERT_BUDGET with SIRENs `width` units wide, fitted for `steps` steps."""
    changed = {"fit.arch.hidden": f"[{','.join([str(width)] * 4)}]", "fit.max_steps": str(steps)}
    return [f"{key}={changed[key]}" if (key := item.split("=", 1)[0]) in changed else item for item in CONVERT_BUDGET]


def convert_config(models: Path, split_file: Path, uri: str, executor: str, budget: list[str]) -> list[str]:
    return [f"source.uri={models}", "source.collection=kicad", f"source.options={{split_file: {split_file}}}",
            f"output.uri={uri}", f"runtime.executor={executor}",
            # round robin over the libraries: a conversion stopped part-way still covers every class
            "runtime.schedule=labels", *budget]


def convert(models: Path, split_file: Path, out: Path, executor: str, budget: list[str]) -> tuple[str, dict[str, Any]]:
    from inrzoo.pipeline import convert as run_convert, load_convert_config
    from inrzoo.pipeline.report import summary_table

    uri = str(out / "kicad_inr2vec.zarr")
    overrides = convert_config(models, split_file, uri, executor, budget)
    log.info("convert: %s", " ".join(overrides))
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    # The machine is shared: Ray's memory monitor kills this job's workers when *other* processes
    # fill the memory (seen here: a 13 GB test elsewhere killed the fit actor). The conversion's
    # own memory is bounded (units of 8 shapes), so the monitor is off for the local Ray it starts.
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")
    report = run_convert(load_convert_config(str(REPO / "jobs/configs/inr2vec.yaml"), overrides))
    print(summary_table(report), flush=True)
    return uri, {"rows": report.rows, "ok": report.ok, "failed": report.failed, "fitted_this_run": report.scheduled_shapes,
                 "median_surface_error": float(np.median(report.surface_errors)) if len(report.surface_errors) else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/weightspace_kicad")
    parser.add_argument("--cache", default="/tmp/kicad-packages3d", help="where the .deb is downloaded and unpacked")
    parser.add_argument("--quick", action="store_true", help=f"a small slice: --slice {QUICK}")
    parser.add_argument("--slice", default="", help="CLASSES:TRAIN,VAL,TEST: the first classes with that many parts each")
    parser.add_argument("--budget", choices=BUDGETS, default=None,
                        help="training budget of the methods (default: quick with --quick, else full)")
    parser.add_argument("--step", choices=["data", "convert", "points", "methods", "all"], default="all")
    parser.add_argument("--executor", choices=["ray", "local"], default="ray")
    parser.add_argument("--inr-width", type=int, default=INR_WIDTH,
                        help=f"hidden units of the converted SIRENs (default {INR_WIDTH}); another width gets its own "
                             "folder and results file (suffix _w<width>)")
    parser.add_argument("--fit-steps", type=int, default=FIT_STEPS,
                        help=f"fitting steps per SIREN (default {FIT_STEPS}); other counts get their own folder and "
                             "results file (suffix _s<steps>)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated subset of " + ",".join(METHODS + ABLATIONS) + ", or 'ablations'")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    chosen_slice = parse_slice(QUICK if args.quick else args.slice)
    name = "quick" if args.quick else ("slice_" + "_".join(map(str, chosen_slice)) if chosen_slice else "full")
    if args.inr_width != INR_WIDTH:
        name += f"_w{args.inr_width}"
    if args.fit_steps != FIT_STEPS:
        name += f"_s{args.fit_steps}"
    budget = convert_budget(args.inr_width, args.fit_steps)
    out = Path(args.out) / name
    out.mkdir(parents=True, exist_ok=True)

    models, package = kicad_data.fetch(Path(args.cache))
    split = kicad_data.load_split()
    split_file = kicad_data.SPLIT_FILE
    if chosen_slice:
        classes, *per_split = chosen_slice
        split = kicad_data.quick_slice(split, dict(zip(("train", "val", "test"), per_split)), classes)
        split_file = out / f"kicad_split_{name}.json"
        kicad_data.write_split(split, split_file)
    kicad_data.verify(models, split)
    if args.step == "data":
        return 0
    from inrzoo.pipeline import load_convert_config

    uri = str(out / "kicad_inr2vec.zarr")
    cfg = load_convert_config(str(REPO / "jobs/configs/inr2vec.yaml"), convert_config(models, split_file, uri, "local",
                                                                                         budget))
    if args.step in ("convert", "all"):
        with timed(out, "convert") as record:
            record.update(convert(models, split_file, out, args.executor, budget)[1])
    if args.step in ("points", "all"):
        from weightspace_inputs import surface_points

        with timed(out, "points"):
            surface_points(cfg, out, N_POINTS)
    if args.step in ("methods", "all"):
        training = method_budget(args.budget or ("quick" if chosen_slice else "full"))
        results = run_methods(uri, out / f"points_{N_POINTS}", training, args.methods.split(","),
                              out / "ray_results", split["checksum"])
        write_results(results, split, package, name, json.loads((out / TIMINGS).read_text())
                      if (out / TIMINGS).exists() else {}, budget)
    return 0


TIMINGS = "timings.json"


def parse_slice(text: str) -> tuple[int, ...]:
    """"C:T,V,E" -> (C, T, V, E); "" -> () (the whole split)."""
    if not text:
        return ()
    try:
        classes, per_split = text.split(":")
        values = (int(classes), *(int(v) for v in per_split.split(",")))
    except ValueError:
        values = ()
    if len(values) != 4 or min(values) < 1:
        raise SystemExit(f"--slice {text!r}: expected CLASSES:TRAIN,VAL,TEST with positive integers, e.g. {QUICK}")
    return values


@contextlib.contextmanager
def timed(out: Path, step: str):
    """CPU seconds (this process and the processes it starts) and wall seconds of one invocation of
    a step, appended to out/timings.json: a conversion resumed in pieces sums its pieces."""
    from weightspace_methods import TreeCpu

    cpu, wall, record = TreeCpu(), time.time(), {}
    yield record
    record.update(cpu_seconds=round(cpu.total()), wall_seconds=round(time.time() - wall))
    path = out / TIMINGS
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings.setdefault(step, []).append(record)
    path.write_text(json.dumps(timings, indent=1) + "\n")
    log.info("%s: %s", step, record)


def run_methods(uri: str, points_folder: Path, budget: dict[str, Any], chosen: list[str], storage: Path,
                split_checksum: str) -> dict[str, Any]:
    import torch

    import weightspace_methods as methods
    from weightspace_inputs import load_splits

    torch.set_num_threads(1)  # a shared machine: one thread per process
    splits, class_names, arch = load_splits(uri, points_folder)
    k = len(class_names)

    def inr2vec_budget(key: str) -> Any:
        _, encoder, lr, copies, full = INR2VEC_VARIANTS[key]
        model = {**budget["inr2vec_model"], "encoder": {**budget["inr2vec_model"]["encoder"], **encoder}}
        train = dict(budget["inr2vec_train"])
        if not full:
            train["epochs"] = budget["ablation_epochs"]
        if lr is not None:
            train["optimizer"] = {**train["optimizer"], "lr": lr}
        run_budget = methods.Inr2vecBudget(model, train, budget["classifier"], train_copies=copies,
                                           reconstruction_shapes=budget["reconstruction_shapes"] if full else 0,
                                           mesh_resolution=budget["mesh_resolution"])  # ablations: embeddings only
        return run_budget

    def inr2vec(key: str):
        run_budget = inr2vec_budget(key)

        def run() -> dict[str, Any]:
            ensure_ray()
            return methods.inr2vec(splits, k, uri, run_budget, str(storage), f"{key}_{split_checksum[:12]}")

        return run

    runs = {
        "chance": ("chance (majority class)", lambda: methods.chance(splits)),
        "raw_mlp": ("raw weights + MLP", lambda: methods.raw_weights_mlp(splits, k, budget["classifier"])),
        "nfn": ("NFN (NP layers, IO encoding)*", lambda: methods.nfn(splits, k, arch, budget["nfn"], budget["nfn_config"])),
        "pointnet": ("PointNet (surface samples)*", lambda: methods.pointnet(splits, k, budget["pointnet"], budget["points"])),
        "raw_mlp_hidden": ("raw weights + MLP, hidden layers only", lambda: methods.raw_weights_mlp(
            splits, k, budget["classifier"], columns=methods.hidden_layer_columns(arch))),
        "raw_mlp_unscaled": ("raw weights + MLP, not standardized", lambda: methods.raw_weights_mlp(
            splits, k, budget["classifier"], standardize=False)),
        **{key: (label, inr2vec(key)) for key, (label, *_rest) in INR2VEC_VARIANTS.items()},
        "inr2vec_untrained": ("inr2vec, untrained encoder (thesis input)",
                              lambda: methods.inr2vec_untrained(
                                  splits, k, uri, dataclasses.replace(inr2vec_budget("inr2vec"), reconstruction_shapes=0))),
    }
    chosen = [key for item in chosen for key in (ABLATIONS if item == "ablations" else (item,))]
    unknown = sorted(set(chosen) - set(runs))
    if unknown:
        raise SystemExit(f"--methods: unknown {unknown}; known: {list(runs)}")
    results: dict[str, Any] = {"rows": {name: len(s) for name, s in splits.items()}, "classes": class_names,
                               "used": used_parts(splits, class_names),
                               "methods": {}, "ablations": {},
                               "weight_statistics": methods.weight_statistics(
                                   splits["train"], arch, seed=int(splits["train"].view.fit_config().get("seed", 0)))}
    for key in chosen:
        label, run = runs[key]
        log.info("method: %s", label)
        results["ablations" if key in ABLATIONS else "methods"][label] = run()
        log.info("%s: %s", label, results["ablations" if key in ABLATIONS else "methods"][label])
        print(table(results), flush=True)
    results["budget"] = json.loads(json.dumps({name: _plain(value) for name, value in budget.items()}, default=str))
    return results


def used_parts(splits: dict[str, Any], class_names: list[str]) -> dict[str, Any]:
    """What the methods saw (a conversion stopped part-way converts a subset of the split): per
    split the rows, the parts (original shapes) and the parts per class."""
    from collections import Counter

    used: dict[str, Any] = {}
    for name, split in splits.items():
        label_of = dict(zip(split.sources, split.labels.tolist()))
        per_class = Counter(class_names[label] for label in label_of.values())
        used[name] = {"rows": len(split), "parts": len(label_of), "classes": len(per_class),
                      "parts_per_class": dict(sorted(per_class.items()))}
    return used


def ensure_ray(attempts: int = 3) -> None:
    """A local Ray for the core's TorchTrainer. On this shared machine a raylet may miss Ray's fixed
    30 s start-up window when the load is high: retry rather than fail the benchmark."""
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_memory_monitor_refresh_ms", "0")  # see convert(): other processes' memory
    for attempt in range(1, attempts + 1):
        try:
            ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=256 * 1024**2,
                     ignore_reinit_error=True)
            return
        except Exception as exc:  # Ray raises a bare Exception on a start-up timeout
            log.warning("ray start %d/%d failed: %s", attempt, attempts, exc)
            ray.shutdown()
            if attempt == attempts:
                raise


def _plain(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


def table(results: dict[str, Any]) -> str:
    used = results.get("used", {})
    lines = [", ".join(f"{name}: {u['parts']} parts / {u['rows']} INRs / {u['classes']} classes" for name, u in used.items()),
             f"test split: {results['rows']['test']} INRs ({len(results['classes'])} classes in the dataset); "
             "retrieval leaves each query's own augmented copy out of the gallery; "
             "* retrieval on the classifier's last hidden layer (supervised); probe: linear probe accuracy",
             f"{'':55s} accuracy  probe  mAP@1  mAP@5  mAP@10  cpu s"]
    for section in ("methods", "ablations"):
        if results.get(section) and section == "ablations":
            lines.append("ablations (item 4):")
        for name, m in results.get(section, {}).items():
            maps = [m.get(f"map@{k}", float("nan")) for k in (1, 5, 10)]
            lines.append(f"{name:55s} {m['accuracy']:8.3f} {m.get('probe_accuracy', float('nan')):6.3f} "
                         f"{maps[0]:6.3f} {maps[1]:6.3f} {maps[2]:7.3f} "
                         f"{m.get('cpu_seconds', 0):6d}")
    for section in ("methods", "ablations"):
        for name, m in results.get(section, {}).items():
            if m.get("reconstruction_chamfer") is not None:
                lines.append(f"{name}: decoder reconstruction Chamfer-L1 {m['reconstruction_chamfer']:.4f}, "
                             f"F-score {m['reconstruction_fscore']:.3f} ({int(m['reconstruction_scored'])} test INRs scored, "
                             f"{int(m.get('reconstruction_failed', 0))} without a decoded surface)")
    return "\n".join(lines)


def write_results(results: dict[str, Any], split: dict[str, Any], package: dict[str, str], name: str,
                  timings: dict[str, Any], budget: list[str]) -> None:
    """Write (or update: methods run in separate invocations are merged when they saw the same rows
    at the same budget)."""
    path = RESULTS / ("weightspace_kicad.json" if name == "full" else f"weightspace_kicad_{name}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(Path(tempfile.gettempdir()) / f"{path.name}.lock", "w") as lock:  # methods may run as parallel invocations
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = json.loads(path.read_text()) if path.exists() else {}
        same = all(previous.get(key) == value for key, value in
                   (("split_checksum", split["checksum"]), ("used", results["used"]), ("budget", results["budget"])))
        if same:  # the same rows at the same budget: one table
            for section in ("methods", "ablations"):
                results[section] = {**previous.get(section, {}), **results[section]}
        elif previous:
            log.info("%s: earlier results were on other rows or another budget; replaced", path)
        _describe(results, split, package, timings, budget)
        path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(table(results), flush=True)
    print(f"written: {path}", flush=True)


def _describe(results: dict[str, Any], split: dict[str, Any], package: dict[str, str], timings: dict[str, Any],
              budget: list[str]) -> None:
    from collections import Counter

    results.update({
        "split_checksum": split["checksum"], "package": package,
        # the committed split; "used" (above) is what the converted rows cover
        "split_parts": dict(Counter(p["split"] for p in split["parts"])),
        "split_parts_per_class": dict(Counter(p["label"] for p in split["parts"])),
        "convert_budget": budget, "timings": timings,
    })


if __name__ == "__main__":
    raise SystemExit(main())
