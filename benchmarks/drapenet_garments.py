"""Evidence for DrapeNet's garment model (issue 15) on the project's own garments.

    .venv/bin/python benchmarks/drapenet_garments.py prepare            # garments + samples (minutes)
    .venv/bin/python benchmarks/drapenet_garments.py train --category top --minutes 90
    .venv/bin/python benchmarks/drapenet_garments.py train --category bottom --minutes 90
    .venv/bin/python benchmarks/drapenet_garments.py evaluate           # prints the table, writes PNGs

1. generates the garment collection (310 tops, 155 bottoms on anny's average body; jobs/configs/
   garments.yaml) unless it exists, and the DrapeNet samples of each category (Zarr);
2. trains one model per category for a time budget (resumes from its last epoch); the thesis
   trains 4,000 epochs of batches of 4 garments x 20,000 queries (10,000 encoder points) with the
   full decoder; the CPU budget here is stated by `--hidden`, `--points-*` and the epochs run,
   which the evaluation prints next to the thesis's;
3. evaluates: Chamfer and F-score@0.01 of MeshUDF reconstructions of held-out (test split) garments,
   next to the Chamfer of the nearest training garment (a retrieval oracle, measured in the same
   run); interpolation strips; editing strips (longer sleeves on a T-shirt, a shorter skirt) with
   the sleeve reach and hem height along each strip; fitting a code to a point cloud of the real
   skirt proxy (tests/data/sampling/skirt.obj, CC0) from the mean code. PNGs and results.json go
   to --out.
On a GPU: add `--device cuda --hidden 512 --points-encoder 10000 --points-decoder 20000`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
import trimesh

from inrzoo import config as config_io
from inrzoo import geometry
from inrzoo.bodies import Body, makehuman_to_anny
from inrzoo.render import draw_mesh, pyplot
from inrzoo.zoo.drapenet import DecoderConfig, DrapeNetConfig, GarmentModel, TrainConfig
from inrzoo.zoo.drapenet import evaluate as ev
from inrzoo.zoo.drapenet.checkpoint import load_garment_model, save_garment_model
from inrzoo.zoo.drapenet.config import GarmentDataConfig
from inrzoo.zoo.drapenet.data import GarmentSamples, prepare_samples
from inrzoo.zoo.drapenet.editing import attribute_direction, edit_strip, extreme_classes, interpolation_strip
from inrzoo.zoo.drapenet.fitting import FitCodeConfig, fit_code
from inrzoo.zoo.drapenet.reconstruct import reconstruct
from inrzoo.zoo.drapenet.train import encode_rows, make_optimizer, train_step

REPO = Path(__file__).resolve().parents[1]
PROXY = REPO / "tests" / "data" / "sampling" / "skirt.obj"
THESIS = "4,000 epochs x (batch 4 garments, 10,000 encoder points, 20,000 queries), decoder width 512"
logger = logging.getLogger("drapenet_garments")


def model_config(args, category: str) -> DrapeNetConfig:
    data = GarmentDataConfig(collection=str(args.garments), category=category, queries_per_garment=args.queries,
                             samples=str(args.work / f"samples_{category}.zarr"), workers=args.workers)
    train = TrainConfig(batch_size=args.batch, points_encoder=args.points_encoder,
                        points_decoder=args.points_decoder, lr=args.lr)
    return DrapeNetConfig(decoder=DecoderConfig(hidden_dim=args.hidden), data=data, train=train)


def prepare(args) -> None:
    from inrzoo.garments.dataset import GarmentDataConfig as CollectionConfig
    from inrzoo.garments.dataset import generate_garments

    if not (args.garments / "index.csv").exists():
        cfg = config_io.load(CollectionConfig, REPO / "jobs" / "configs" / "garments.yaml",
                             [f"output={args.garments}", f"body={args.body}"])
        generate_garments(cfg)
    for category in ("top", "bottom"):
        cfg = model_config(args, category)
        prepare_samples(cfg.data, cfg.delta)


def train(args) -> None:
    cfg = model_config(args, args.category)
    folder = args.work / args.category
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.train.seed)
    model = GarmentModel(cfg).to(args.device)
    optimizer = make_optimizer(model, cfg)
    epoch = 0
    if (folder / "state.pt").exists():  # resume: tensors and numbers only, no pickled objects
        state = torch.load(folder / "state.pt", map_location=args.device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        epoch = int(state["epoch"])
    dataset = GarmentSamples(cfg.data.samples, "train", cfg.train.points_encoder, cfg.train.points_decoder,
                             cfg.train.seed)
    generator = torch.Generator().manual_seed(cfg.train.seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=cfg.train.batch_size, shuffle=True, drop_last=True,
                                         generator=generator)
    if len(loader) == 0:
        raise ValueError(f"{cfg.data.samples}: {len(dataset)} training garments, fewer than a batch of {cfg.train.batch_size}")
    deadline = time.monotonic() + 60 * args.minutes
    log = (folder / "log.csv").open("a", newline="")
    writer = csv.writer(log)
    while time.monotonic() < deadline and epoch < cfg.train.epochs:
        dataset.epoch = epoch
        sums, steps, started = {"total": 0.0, "bce": 0.0, "grad": 0.0}, 0, time.monotonic()
        for batch in loader:
            losses = train_step(model, optimizer, batch, cfg)
            steps += 1
            for key in sums:
                sums[key] += losses[key]
            if time.monotonic() > deadline:
                break
        complete = steps == len(loader)
        epoch += int(complete)
        means = {k: v / max(steps, 1) for k, v in sums.items()}
        writer.writerow([epoch, steps, complete, f"{means['total']:.5f}", f"{means['bce']:.5f}",
                         f"{means['grad']:.5f}", f"{time.monotonic() - started:.1f}"])
        log.flush()
        logger.info("%s epoch %d (%d steps%s): loss %.5f bce %.5f grad %.5f", args.category, epoch, steps,
                    "" if complete else ", cut by the time budget", means["total"], means["bce"], means["grad"])
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch},
                   folder / "state.pt")
        save_garment_model(model, cfg, str(folder / "model.safetensors"),
                           extra={"epochs": epoch, "train_garments": len(dataset)})
    log.close()


def strip_figure(rows: list[tuple[str, list]], path: Path) -> None:
    plt = pyplot()
    width = max(len(meshes) for _, meshes in rows)
    fig = plt.figure(figsize=(2.4 * width, 2.6 * len(rows)))
    for r, (title, meshes) in enumerate(rows):
        for c, mesh in enumerate(meshes):
            ax = fig.add_subplot(len(rows), width, r * width + c + 1, projection="3d")
            draw_mesh(ax, mesh, (np.array([0.0, 0.1, -0.2]), 0.6))
            ax.view_init(elev=10, azim=-75)
            if c == 0:
                ax.set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def evaluate_category(args, category: str, results: dict) -> None:
    model, cfg, extra = load_garment_model(str(args.work / category / "model.safetensors"), args.device)
    train_set = GarmentSamples(cfg.data.samples, "train", cfg.train.points_encoder, cfg.train.points_decoder)
    test_set = GarmentSamples(cfg.data.samples, "test", cfg.train.points_encoder, cfg.train.points_decoder)
    record = test_set.record
    # 1. Held-out reconstructions against the nearest training garment.
    items = list(range(min(len(test_set), args.eval_limit)))
    meshes = ev.reconstruct_rows(model, test_set, items, category, args.resolution)
    train_meshes = [geometry.load(record.uris[row], kind="mesh") for row in train_set.rows]
    rows = []
    for item in items:
        reference = geometry.load(record.uris[test_set.rows[item]], kind="mesh")
        score = ev.scores(meshes[item][1], reference, args.points, args.tau)
        nearest = ev.nearest_training(reference, train_meshes, args.points, args.tau)
        score.update(nearest_train_chamfer=nearest["chamfer"], nearest_train_fscore=nearest["fscore"])
        score["id"] = record.ids[test_set.rows[item]]
        rows.append(score)
        logger.info("%s %s", category, score)
    chamfer = float(np.nanmean([r["chamfer"] for r in rows]))
    baseline = float(np.mean([r["nearest_train_chamfer"] for r in rows]))
    results[category] = {"epochs": extra.get("epochs"), "train_garments": extra.get("train_garments"),
                         "test_evaluated": len(rows), "chamfer": chamfer, "fscore": float(np.mean([r["fscore"] for r in rows])),
                         "nearest_train_chamfer": baseline,
                         "nearest_train_fscore": float(np.mean([r["nearest_train_fscore"] for r in rows])),
                         "ratio": chamfer / baseline, "rows": rows, "config": config_io.to_dict(cfg)}
    # 2. Interpolation between two held-out garments of different types.
    labels = [record.labels[test_set.rows[i]] for i in items]
    first, second = items[0], next((i for i in items if labels[i] != labels[0]), items[-1])
    codes = interpolation_strip(meshes[first][0].cpu().numpy(), meshes[second][0].cpu().numpy(), 5)
    strip = [reconstruct(model, torch.as_tensor(c, dtype=torch.float32), args.resolution, ev.cube_bounds(category))
             for c in codes]
    # 3. Editing: longer sleeves (tops) or a shorter skirt (bottoms), directions from training codes.
    train_codes = encode_rows(model, train_set).numpy()
    train_params = [train_set.record.params[row] for row in train_set.rows]
    train_labels = [train_set.record.labels[row] for row in train_set.rows]
    name = "sleeve" if category == "top" else "hem"
    values = ev.attribute_values(train_params, name)
    if category == "bottom":
        values[[label != "skirt" for label in train_labels]] = np.nan  # hem of skirts only
    chosen, classes = extreme_classes(values)
    direction = attribute_direction(train_codes[chosen], classes)
    start_label = "tshirt" if category == "top" else "skirt"
    start = next(i for i in items if labels[i] == start_label) if start_label in labels else items[0]
    edited_codes = edit_strip(meshes[start][0].cpu().numpy(), direction, args.edit_steps, args.edit_step)
    edited = [reconstruct(model, torch.as_tensor(c, dtype=torch.float32), args.resolution, ev.cube_bounds(category))
              for c in edited_codes]
    measure = ev.sleeve_reach if category == "top" else ev.hem_height
    results[category]["editing"] = {"attribute": name, "start": record.ids[test_set.rows[start]],
                                    "measure": [measure(m) for m in edited], "direction": direction.tolist()}
    what = "longer sleeves" if category == "top" else "shorter skirt"
    strip_figure([(f"{category}: interpolation {labels[first]} -> {labels[second]}", strip),
                  (f"{category}: editing, {what}", edited)], args.out / f"{category}_strips.png")
    # 4. Fitting the real skirt proxy (bottoms).
    if category == "bottom":
        fit_proxy(args, model, train_codes, results)


def fit_proxy(args, model: GarmentModel, train_codes: np.ndarray, results: dict) -> None:
    body = Body.load(args.garments / "body.npz")
    proxy = trimesh.load(PROXY, process=False)
    proxy = trimesh.Trimesh(body.garment_frame().apply(makehuman_to_anny(proxy.vertices)), proxy.faces, process=False)
    target = ev.surface_cloud(proxy, 5000, seed=3)  # the observed point cloud
    mean = torch.as_tensor(train_codes.mean(axis=0), dtype=torch.float32)
    with torch.no_grad():
        encoded = model.encode(torch.as_tensor(target[None], dtype=torch.float32, device=args.device))[0].cpu()
    try:
        fitted, losses = fit_code(model, target, mean, FitCodeConfig(steps=args.fit_steps))
    except ValueError as exc:  # an undertrained model may decode the mean code to nothing
        results["fit_proxy"] = {"error": str(exc)}
        return
    found = {}
    for name, code in (("mean code", mean), ("encoder", encoded), ("fitted", fitted.cpu())):
        mesh = reconstruct(model, code, args.resolution, ev.cube_bounds("bottom"))
        found[name] = (mesh, ev.scores(mesh, proxy, args.points, args.tau))
    results["fit_proxy"] = {name: score for name, (_, score) in found.items()}
    results["fit_proxy"]["losses"] = [losses[0], losses[-1]]
    strip_figure([("real skirt proxy (target); mean code; encoder; fitted (Adam 0.01)",
                   [proxy] + [mesh for mesh, _ in found.values()])], args.out / "fit_proxy.png")


def garments_and_meshing(args, results: dict) -> None:
    """A gallery of the generated garments, and MeshUDF on their exact (clipped) UDFs: the meshing
    error alone, which bounds what any model's reconstruction can reach at this resolution."""
    from inrzoo import collections

    refs = collections.get("folder", str(args.garments), index="index.csv").list()
    by_type: dict[str, list] = {}
    for ref in refs:
        by_type.setdefault(ref.label, []).append(ref)
    gallery = [(label, [geometry.load(r.uri, kind="mesh") for r in group[:4]]) for label, group in by_type.items()]
    strip_figure([(label, [trimesh.Trimesh(m.vertices, m.faces, process=False) for m in meshes])
                  for label, meshes in gallery], args.out / "garments.png")
    rows = []
    for label, meshes in gallery:
        mesh = meshes[0]
        category = "top" if label in ("tshirt", "longsleeve", "tank", "dress") else "bottom"
        udf = lambda p, mesh=mesh: np.minimum(geometry.unsigned_distance(mesh, p), 0.1)  # noqa: E731
        meshed = geometry.mesh_udf(udf, args.resolution, bounds=ev.cube_bounds(category))
        rows.append({"type": label, **ev.scores(meshed, mesh, args.points, args.tau)})
    results["meshudf_exact"] = rows


def evaluate(args) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    garments_and_meshing(args, results)
    for category in ("top", "bottom"):
        evaluate_category(args, category, results)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    exact = results["meshudf_exact"]
    print(f"MeshUDF at resolution {args.resolution} on exact garment UDFs: Chamfer "
          f"{np.mean([r['chamfer'] for r in exact]):.4f}  F@{args.tau} {np.mean([r['fscore'] for r in exact]):.3f} "
          f"(mean of {len(exact)} types)")
    print(f"budget: thesis {THESIS}")
    for category in ("top", "bottom"):
        r = results[category]
        c = r["config"]
        print(f"{category:6s} ran {r['epochs']} epochs x (batch {c['train']['batch_size']}, "
              f"{c['train']['points_encoder']} encoder points, {c['train']['points_decoder']} queries), decoder "
              f"width {c['decoder']['hidden_dim']} on {r['train_garments']} training garments "
              f"({100 * r['epochs'] / 4000:.2f}% of the thesis's epochs)")
        print(f"{category:6s} held-out {r['test_evaluated']}: Chamfer {r['chamfer']:.4f}  F@{args.tau} {r['fscore']:.3f}  "
              f"| nearest training garment Chamfer {r['nearest_train_chamfer']:.4f}  F {r['nearest_train_fscore']:.3f}"
              f" | Chamfer ratio {r['ratio']:.2f}")
        e = r["editing"]
        print(f"{category:6s} editing {e['attribute']} from {e['start']}: "
              + " ".join(f"{v:.3f}" for v in e["measure"]))
    fit = results["fit_proxy"]
    print("skirt proxy: " + (fit["error"] if "error" in fit else "  ".join(
        f"{k} Chamfer {v['chamfer']:.4f} F {v['fscore']:.3f}" for k, v in fit.items() if k != "losses")))
    print(f"PNGs and results.json in {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("phase", choices=["prepare", "train", "evaluate"])
    parser.add_argument("--garments", type=Path, default=REPO / ".inrzoo" / "garments")
    parser.add_argument("--work", type=Path, default=REPO / ".inrzoo" / "drapenet_bench")
    parser.add_argument("--body", type=Path, default=REPO / "tests" / "data" / "bodies" / "anny_average_body.npz",
                        help="the body garments are made on (the stored anny average body: no anny build needed)")
    parser.add_argument("--queries", type=int, default=100_000, help="DrapeNet mixture points stored per garment")
    parser.add_argument("--workers", type=int, default=1, help="processes preparing samples")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "drapenet_garments")
    parser.add_argument("--category", choices=["top", "bottom"], default="top")
    parser.add_argument("--minutes", type=float, default=90.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--points-encoder", type=int, default=1024)
    parser.add_argument("--points-decoder", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--resolution", type=int, default=96)
    parser.add_argument("--eval-limit", type=int, default=8)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--tau", type=float, default=0.01)
    parser.add_argument("--edit-steps", type=int, default=4)
    parser.add_argument("--edit-step", type=float, default=0.5)
    parser.add_argument("--fit-steps", type=int, default=60)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    {"prepare": prepare, "train": train, "evaluate": evaluate}[args.phase](args)


if __name__ == "__main__":
    main()
