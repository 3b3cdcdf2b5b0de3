"""Does a DrapeNet top model know where a T-shirt's sleeve ends? (issue 15)

    .venv/bin/python benchmarks/drapenet_forearm_probe.py <model.safetensors> <samples_top.zarr>

Forearm points: stored surface points of 10 training long-sleeve tops, on the outer part of the
arms (|x| > 0.35, x across the arms in the tops' frame). For each of up to 12 T-shirts per split,
those farther than 0.05 from its own surface (the stored surface points) are where its true UDF is
at least half the clip; the probe prints the median predicted UDF there and the share of them
predicted below 0.02 (a phantom surface, which MeshUDF meshes as a sleeve). As a check that
real sleeves survive, it prints the median predicted UDF on held-out long sleeves' own forearms
(|x| above 85 % of their reach), which should stay near 0. Codes come from 256 surface points, as
the CPU budget trains. The thresholds are my choices.
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
import torch
import zarr
from scipy.spatial import cKDTree

from inrzoo.zoo.core.checkpoint import load_model

logger = logging.getLogger("drapenet_forearm_probe")
ENCODER_POINTS, FAR, PHANTOM = 256, 0.05, 0.02


def rows(labels: list[str], splits: list[str], label: str, split: str) -> list[int]:
    return [i for i, (l, s) in enumerate(zip(labels, splits)) if l == label and s == split]


def predicted(model, surface: np.ndarray, points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The model's UDF at `points` for the code of a garment's stored surface points."""
    with torch.no_grad():
        cloud = surface[rng.choice(len(surface), ENCODER_POINTS, replace=False)]
        code = model.encode(torch.from_numpy(cloud)[None])
        return model.udf(code, torch.from_numpy(points.astype(np.float32))[None])[0].numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("samples")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model, _ = load_model(args.model)
    root = zarr.open_group(args.samples, mode="r")
    labels, splits = list(root.attrs["labels"]), list(root.attrs["splits"])
    rng = np.random.default_rng(0)
    arms = np.concatenate([root["surface"][i] for i in rows(labels, splits, "longsleeve", "train")[:10]])
    arms = arms[np.abs(arms[:, 0]) > 0.35]
    for split in ("train", "test"):
        medians, phantom = [], []
        for i in rows(labels, splits, "tshirt", split)[:12]:
            surface = root["surface"][i]
            far = arms[cKDTree(surface).query(arms)[0] >= FAR]
            if len(far):
                udf = predicted(model, surface, far, rng)
                medians.append(np.median(udf))
                phantom.append(np.mean(udf < PHANTOM))
        logger.info("%s T-shirts (%d): predicted UDF at forearm points (truth >= %.2f) median %.4f, phantom (< %.2f) "
                    "%.3f", split, len(medians), FAR, np.median(medians), PHANTOM, np.mean(phantom))
    own = []
    for i in rows(labels, splits, "longsleeve", "test"):
        surface = root["surface"][i]
        reach = np.abs(surface[:, 0])
        own.append(np.median(predicted(model, surface, surface[reach > 0.85 * reach.max()], rng)))
    logger.info("held-out long sleeves (%d): predicted UDF on their own forearms, median %.4f", len(own), np.median(own))


if __name__ == "__main__":
    main()
