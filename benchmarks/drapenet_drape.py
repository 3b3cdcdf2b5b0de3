"""Evidence for DrapeNet's draping (issue 16): held-out garments on held-out bodies and poses.

    .venv/bin/python benchmarks/drapenet_drape.py train  [overrides ...]   # data + Ray Train + MLflow
    .venv/bin/python benchmarks/drapenet_drape.py evaluate [--model FILE]  # table, pictures, timing

`train` runs the zoo job of zoo/configs/drapenet-drape/generated_cpu.yaml (the data is made first
if missing: garments from part 1's generator, codes from part 1's encoder, body fields learned
from anny; then physics self-supervision on Ray Train, the drape_metrics task, registration).
`evaluate` loads the trained model (the run's last training state unless --model names a model
file) and prints, side by side and measured in the same run, for (a) plain skinning by the
nearest body vertex, the learned body fields alone (W(x), dx(x, beta), no garment
displacement: an ablation), (b) DrapeNet without the intersection solver, (c) full DrapeNet:
B2G and G2G (area ratios), strain, bending and gravity energies (joules per outfit), each also as a
ratio to (a); with --reference-steps N, also the physics reference (the quasi-static drape solved
per outfit with no networks: what the energies allow, so each metric's headroom shows); then the
drape time per garment on this CPU (one thread) for (a) and (c), and the pictures: one outfit of
the test split on 4 held-out bodies in 4 held-out poses (PNG). Results go to --out as
results.json with the config that produced them.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

from inrzoo import config as config_io
from inrzoo.logs import show_progress

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "zoo" / "configs" / "drapenet-drape" / "generated_cpu.yaml"
log = logging.getLogger("drapenet_drape")


def job_config(overrides: list[str]):
    from inrzoo.zoo.core.job_config import load_job_config

    return load_job_config(str(CONFIG), overrides)


def train(args) -> None:
    from inrzoo.zoo.core.job import run_training_job

    cfg = job_config(args.overrides)
    summary = run_training_job(cfg, out_dir=args.out)
    log.info("trained %s for %d epochs; metrics %s; MLflow run %s; registration %s", summary.run_name,
             summary.epochs, json.dumps(summary.metrics), summary.mlflow_run_id, summary.registration)


def last_state(cfg) -> Path:
    from inrzoo.tracking import state_dir

    folder = Path(cfg.checkpoint.storage_path or state_dir() / "ray_results") / cfg.run_name()
    states = sorted(folder.glob("checkpoint_*/model.safetensors"))
    if not states:
        raise FileNotFoundError(f"{folder}: no training state; run `train` first or pass --model")
    return states[-1]


def drape_seconds(fn, repeats: int) -> float:
    fn()  # warm up
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def timing(model, data, rig, repeats: int) -> dict[str, float]:
    """Seconds to drape one garment (body of the pose included) by the baseline and by DrapeNet."""
    from inrzoo.zoo.drapenet.draping.evaluate import nearest_vertex_skinning

    batch = next(iter(data.batches("test", 1)))
    top, bottom = batch.tops[0], batch.bottoms[0]

    def baseline():
        body = rig(batch.beta, batch.theta)
        nearest_vertex_skinning(top.vertices[None], rig, body.rest_vertices, body.transforms)

    def drapenet():
        with torch.no_grad():
            body = rig(batch.beta, batch.theta)
            model.draper.drape("bottom", bottom.vertices[None], bottom.code[None], batch.beta, batch.theta,
                               body.transforms, top_codes=top.code[None])

    return {"skinning_s": drape_seconds(baseline, repeats), "drapenet+is_s": drape_seconds(drapenet, repeats),
            "top_vertices": top.cloth.num_vertices, "bottom_vertices": bottom.cloth.num_vertices}


def pictures(model, data, rig, out: Path) -> Path:
    """One test outfit by full DrapeNet on 4 held-out bodies (rows) in 4 held-out poses (columns)."""
    from inrzoo.zoo.drapenet.draping.evaluate import drape_outfit
    from inrzoo.zoo.drapenet.draping.pictures import COLORS, outfit_grid

    first = next(iter(data.batches("test", 1)))
    top, bottom = first.tops[0], first.bottoms[0]
    rng = np.random.default_rng(data.options.heldout_seed + 7)
    betas, _ = data.bodies(rng, 4)
    _, thetas = data.bodies(rng, 4)
    panels = []
    for i in range(4):
        row = []
        for j in range(4):
            beta, theta = betas[i:i + 1], thetas[j:j + 1]
            body = rig(beta, theta)
            drapes = drape_outfit(model, rig, top, bottom, beta, theta, body)["drapenet+is"]
            meshes = [(body.vertices[0].numpy(), rig.faces.numpy(), COLORS["body"]),
                      (drapes.bottom.numpy(), bottom.cloth.faces.numpy(), COLORS["bottom"]),
                      (drapes.top.numpy(), top.cloth.faces.numpy(), COLORS["top"])]
            row.append((f"body {i + 1}, pose {j + 1}", meshes))
        panels.append(row)
    ids = data.attrs["ids"]
    log.info("pictures: top %s, bottom %s", ids[top.row], ids[bottom.row])
    return outfit_grid(panels, out / "drapenet_drape_grid.png")


def evaluate(args) -> None:
    from inrzoo.zoo.core.checkpoint import load_model
    from inrzoo.zoo.core.data import open_data
    from inrzoo.zoo.drapenet.draping.evaluate import METHODS, REFERENCE, evaluate as measure
    from inrzoo.zoo.drapenet.draping.reference import ReferenceSettings
    from inrzoo.zoo.drapenet.draping.model import shared_rig

    torch.set_num_threads(1)
    cfg = job_config(args.overrides)
    model_file = Path(args.model) if args.model else last_state(cfg)
    model, extra = load_model(str(model_file))
    data = open_data(model.data_kind, cfg.data)
    rig = shared_rig()
    started = time.monotonic()
    reference = ReferenceSettings(steps=args.reference_steps) if args.reference_steps else None
    results = measure(model, data, "test", repeats=args.repeats, reference=reference)
    log.info("evaluated %s outfits x %d bodies in %.0f s", data.split_sizes()["test"], args.repeats,
             time.monotonic() - started)
    keys = ["b2g", "g2g", "strain", "bending", "gravity"]
    base = results["skinning"]
    print(f"held-out: {data.split_sizes()['test']} outfits (test garments) x {args.repeats} held-out bodies/poses; "
          f"model {model_file}")
    print(f"{'method':<14}" + "".join(f"{k:>12}" for k in keys) + "   (ratio to skinning)")
    for method in METHODS + ((REFERENCE,) if reference else ()):
        row = results[method]
        ratios = " ".join(f"{row[k] / base[k]:.3g}" if base[k] else "-" for k in keys)
        print(f"{method:<14}" + "".join(f"{row[k]:>12.4g}" for k in keys) + f"   ({ratios})")
    times = timing(model, data, rig, args.time_repeats)
    print(f"drape time per garment (1 thread): skinning {times['skinning_s'] * 1e3:.1f} ms, DrapeNet+IS "
          f"{times['drapenet+is_s'] * 1e3:.1f} ms ({times['drapenet+is_s'] / times['skinning_s']:.2f}x), garments of "
          f"{times['top_vertices']}/{times['bottom_vertices']} vertices")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    grid = pictures(model, data, rig, out)
    print(f"pictures: {grid}")
    record = {"results": results, "timing": times, "model_file": str(model_file), "model_extra": extra,
              "config": config_io.to_dict(cfg), "repeats": args.repeats, "encoder": data.attrs["encoder"],
              "reference": config_io.to_dict(reference) if reference else None,
              "model_config": config_io.to_dict(model.config), "body_fields": data.spec().fields}
    (out / "results.json").write_text(json.dumps(record, indent=1, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["train", "evaluate"])
    parser.add_argument("overrides", nargs="*", help="config overrides (a.b=c) of generated_cpu.yaml")
    parser.add_argument("--model", default="", help="a model file (default: the run's last training state)")
    parser.add_argument("--repeats", type=int, default=3, help="held-out bodies per test outfit")
    parser.add_argument("--time-repeats", type=int, default=5)
    parser.add_argument("--reference-steps", type=int, default=0,
                        help="also solve each outfit's quasi-static drape directly (reference.py) with this many "
                             "steps: what the energies allow on that body (about 15 s per garment at 2000)")
    parser.add_argument("--out", default=str(REPO / "out" / "bench" / "drape_results"))
    args = parser.parse_args()
    show_progress()
    torch.set_num_threads(1)
    {"train": train, "evaluate": evaluate}[args.step](args)


if __name__ == "__main__":
    main()
