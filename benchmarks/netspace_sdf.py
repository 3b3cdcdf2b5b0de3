"""Evidence for NetSpace on SDF MLPs of real meshes (thesis fig. 4.5: interpolation).

    .venv/bin/python benchmarks/netspace_sdf.py [--zoo out/zoos/netspace_sdf.zarr] [--out /tmp/netspace_sdf]
    .venv/bin/python benchmarks/netspace_sdf.py --gpu     # the thesis's model sizes and lr, on a GPU

1. converts 339 real meshes, one MLP each from its own initialization (fit.init: per_shape;
   jobs/configs/netspace_sdf.yaml: Davies' 8x32 ReLU MLP): ../shared/data's 147 (kicad 96,
   classic 19, printables 30, thingi10k 2) and 8 train parts of each of the 24 libraries of the
   KiCad benchmark (kicad-packages3d, fetched into --cache by `apt-get download` as
   benchmarks/kicad_data.py does; parts ../shared/data holds are skipped), linked into <out>/meshes;
   the conversion resumes if the dataset exists;
2. trains NetSpace on the train split through the zoo core (zoo/configs/netspace/sdf_default.yaml;
   split by source shape, augmented copies with their original);
3. prints, for held-out MLPs, the decoding error and, for pairs of held-out shapes, the path
   error of decoded interpolated embeddings against the direct interpolation of the weights
   (zoo/netspace/sdf_evaluate.py: distance to the blend of the two input fields, at queries
   around both surfaces), with a PNG strip of both paths for the first pair (<out>/test);
4. the same on the train split (the thesis shows training shapes; <out>/train), from the run's
   last training state (<out>/states), and for each held-out MLP the oracle nearest training MLP,
   a retrieval reference for the decoded error. metrics.json holds all of it and the budget.

The budget (printed) is far below the thesis's on a CPU; --gpu runs the config's thesis sizes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data"  # the shared real meshes next to the checkout (not read by tests)

# CPU budget (thesis: embedding 4096, encoder 128-256-512, decoder 256 per row and 128/512/256,
# 50,000 queries per MLP and step, Adam 1e-4, a million epochs of 1,000 MLPs in batches of 4).
CPU_BUDGET = ["model.encoder.embedding_size=1024", "model.encoder.channels=[32,64,128]", "model.decoder.seed_side=32",
              "model.decoder.row_channels=64", "model.decoder.stage_channels=[32,128,64]",
              "model.loss.sdf_queries.num_queries=4096", "train.optimizer.lr=0.001", "train.epochs=60",
              "scaling.torch_threads=1", "tasks.netspace_interpolation.sdf_queries=8000",
              "tasks.netspace_decoding.sdf_queries=8000"]
GPU_BUDGET = ["scaling.use_gpu=true", "scaling.torch_threads=4", "train.epochs=60"]


KICAD_PER_LIBRARY = 8  # chosen: train parts of each of the 24 KiCad benchmark libraries added to the zoo


def stage_meshes(data: Path, cache: Path, per_library: int, folder: Path) -> dict:
    """A folder of links to the zoo's meshes: ../shared/data's (the conversion config's patterns)
    under shared/, and the first `per_library` train parts of each library of the KiCad benchmark
    split (benchmarks/data/kicad_split.json, bytes checked) under kicad3d/, skipping parts
    ../shared/data already holds (its kicad/ folder has 96 of them as PLY)."""
    import kicad_data
    from inrzoo.collections.folder import glob_regex
    from inrzoo.pipeline import load_convert_config

    patterns = load_convert_config(str(REPO / "jobs/configs/netspace_sdf.yaml")).source.options["patterns"]
    shared = sorted(str(p.relative_to(data)) for p in data.rglob("*")
                    if p.is_file() and any(glob_regex(g).match(str(p.relative_to(data))) for g in patterns))
    held = {Path(rel).with_suffix("").as_posix().removeprefix("kicad/") for rel in shared}
    models, package = kicad_data.fetch(cache)
    taken: dict[str, int] = {}
    parts = []
    for part in kicad_data.load_split()["parts"]:
        library, name = part["file"].split(".3dshapes/")
        fresh = f"{library}/{Path(name).stem}" not in held
        if part["split"] == "train" and fresh and taken.get(library, 0) < per_library:
            taken[library] = taken.get(library, 0) + 1
            parts.append(part)
    kicad_data.verify(models, {"parts": parts})
    links = [(folder / "shared" / rel, data / rel) for rel in shared]
    links += [(folder / "kicad3d" / part["file"], models / part["file"]) for part in parts]
    for link, target in links:
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(target.resolve())
    return {"shared_meshes": len(shared), "kicad_parts": len(parts), "kicad_package": package}


def convert_zoo(uri: str, meshes: Path) -> dict:
    from inrzoo.pipeline import convert, load_convert_config

    started = time.perf_counter()
    report = convert(load_convert_config(str(REPO / "jobs/configs/netspace_sdf.yaml"),
                                         [f"source.uri={meshes}", "source.options={patterns: ['**/*.*']}",
                                          "source.follow_links=true", f"output.uri={uri}", "tracking.enabled=false",
                                          "output.retry_failed=true"]))
    errors = report.surface_errors
    print(f"SDF zoo {uri}: {report.rows} rows, ok {report.ok}, failed {report.failed}, pending {report.pending}; "
          f"median surface error {float(sorted(errors)[len(errors) // 2]) if len(errors) else float('nan'):.4f}; "
          f"{time.perf_counter() - started:.0f}s", flush=True)
    return {"rows": report.rows, "ok": report.ok, "failed": report.failed}


def last_state(states: Path, run_name: str) -> Path:
    """The newest training state Ray Train kept for the run (folders checkpoint_<timestamp>)."""
    folders = sorted(p for p in (states / run_name).glob("checkpoint_*") if p.is_dir())
    if not folders:
        raise FileNotFoundError(f"{states / run_name}: no training state")
    return folders[-1]


def train_split_figures(config: str, overrides: list[str], state: Path, out: Path) -> dict:
    """Decoding and interpolation on the train split (what the thesis shows), and for the held-out
    MLPs the oracle nearest training MLP (a retrieval reference for the decoded error)."""
    from inrzoo.zoo.core import load_job_config
    from inrzoo.zoo.core.data import open_data
    from inrzoo.zoo.core.tasks import load_any_model, run_task_job
    from inrzoo.zoo.netspace.evaluate import split_networks
    from inrzoo.zoo.netspace.sdf_evaluate import nearest_network_errors

    model_file = str(state / "model.safetensors")
    on_train = [*overrides, "tasks.netspace_decoding.split=train", "tasks.netspace_interpolation.split=train"]
    cfg = load_job_config(config, on_train)
    figures = {}
    for task in ("netspace_decoding", "netspace_interpolation"):
        figures.update(run_task_job(task, cfg, model_file, out_dir=out / "train"))
    data = open_data("netspace_zoo", cfg.data)
    nearest = nearest_network_errors(load_any_model(model_file), split_networks(data, "test").flat,
                                     split_networks(data, "train").flat)
    figures.update(nearest_train_error=float(nearest.mean()), nearest_train_error_median=float(nearest.median()))
    return figures


def main(argv: list[str] | None = None) -> None:
    from inrzoo.zoo.core import load_job_config
    from inrzoo.zoo.core.job import run_training_job

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", default=str(REPO / "out/zoos/netspace_sdf.zarr"))
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--cache", default="/tmp/kicad-cache", help="where kicad-packages3d is fetched and unpacked")
    parser.add_argument("--kicad-per-library", type=int, default=KICAD_PER_LIBRARY)
    parser.add_argument("--out", default="/tmp/netspace_sdf")
    parser.add_argument("--gpu", action="store_true")
    parser.add_argument("--skip-convert", action="store_true", help="use the zoo as it is")
    parser.add_argument("--epochs", type=int, default=0, help="override the budget's train.epochs")
    parser.add_argument("overrides", nargs="*", help="more job overrides (key=value), applied after the budget")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if not args.skip_convert:
        staged = stage_meshes(Path(args.data), Path(args.cache), args.kicad_per_library, out / "meshes")
        print(f"zoo meshes: {staged}", flush=True)
        convert_zoo(args.zoo, out / "meshes")
    config = str(REPO / "zoo/configs/netspace/sdf_default.yaml")
    epochs = [f"train.epochs={args.epochs}"] if args.epochs else []
    budget = [item for item in (GPU_BUDGET if args.gpu else CPU_BUDGET)
              if not (epochs and item.startswith("train.epochs="))] + epochs
    overrides = [f"data.uri={args.zoo}", "tracking.enabled=false", f"checkpoint.storage_path={out / 'states'}",
                 *budget, *args.overrides]
    started = time.perf_counter()
    summary = run_training_job(load_job_config(config, overrides), out_dir=out / "test")
    m = {**summary.metrics, "epochs": summary.epochs, "train_seconds": time.perf_counter() - started}
    train = train_split_figures(config, overrides, last_state(out / "states", summary.run_name), out)
    print(f"\n== SDF space: {summary.epochs} epochs in {m['train_seconds']:.0f}s")
    for split, folder, f in (("held-out", "test", m), ("training", "train", train)):
        print(f"{split} MLPs: mean |f - f_decoded| near the surface {f['decoded_error']:.4f} (median "
              f"{f['decoded_error_median']:.4f}), decoded with a surface {f['decoded_with_surface']:.2f}; "
              f"interpolation of {split} pairs of two shapes, mean error strictly "
              f"inside the path (distance to the blend of the two input fields): embedding "
              f"{f['embedding_path_error']:.4f}, weights {f['weight_path_error']:.4f} (ratio "
              f"{f['weight_path_error'] / max(f['embedding_path_error'], 1e-12):.2f}x); error at the ends of the "
              f"embedding path {f['embedding_end_error']:.4f}; strip {out / folder / 'netspace_interpolation.png'}")
    print(f"held-out MLPs, oracle nearest training MLP (retrieval reference): {train['nearest_train_error']:.4f} "
          f"(median {train['nearest_train_error_median']:.4f})")
    print(f"sampled embeddings decoding to a surface: {m['sampled_with_surface']:.2f}")
    m["train_split"] = train
    m["budget"] = budget + args.overrides
    (out / "metrics.json").write_text(json.dumps(m, indent=1))
    print(f"\nbudget: {' '.join(budget + args.overrides)}. Thesis: embedding 4096, PRep 8 x 10,000, 50,000 queries, "
          f"Adam 1e-4 for a million epochs of 1,000 MLPs, on a GPU.")


if __name__ == "__main__":
    main()
