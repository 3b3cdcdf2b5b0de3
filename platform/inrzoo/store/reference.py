"""The reference datasets and test vectors shipped for conformance (docs/format.md, "Conformance").

    python -m inrzoo.store.reference [OUT_DIR]     (default: the package's data/reference)

Writes two tiny datasets with a few INRs of every architecture family and encoding
(relu_mlp, siren, positional and Fourier encodings, lightsal with its skip connection):
reference.zarr in float32, mixing architectures in one dataset (so the shape -> group/row
index is exercised, along with a failed and a pending row), and reference_bf16.zarr in
bfloat16. Next to each, <name>.vectors.json holds points and the values the library's
reference evaluator gives there (computed in float64 from the stored parameters), which an
independent implementation of the spec must reproduce.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from inrzoo.inr import ArchSpec, build
from inrzoo.store.reader import open_weights
from inrzoo.store.records import RowResult
from inrzoo.store.writer import create_weights

POINTS_PER_ROW = 32
ROWS_PER_ARCH = 3

# Small widths keep the shipped files tiny; every forward feature of the families is covered.
REFERENCE_ARCHS = [
    ArchSpec.default("relu_mlp"),  # Davies 8x32, tanh output
    ArchSpec.default("siren", hidden=[32, 32, 32]),
    ArchSpec.default("relu_mlp", hidden=[32, 32, 32, 32], skip=[2], output="none", init="torch",
                     encoding="positional", frequencies=4),
    ArchSpec.default("relu_mlp", hidden=[32, 32], output="none", init="torch", encoding="fourier",
                     fourier_features=16, fourier_sigma=2.0, fourier_seed=3),
    ArchSpec.default("siren", hidden=[24, 24], encoding="positional", frequencies=2, include_input=False,
                     omega_0=20.0, first_omega_0=25.0),
    ArchSpec.default("lightsal", hidden=[16, 32, 64, 16, 32, 64], skip=[2]),
]


def default_dir() -> Path:
    return Path(str(resources.files("inrzoo") / "data" / "reference"))


def reference_params(spec: ArchSpec, seed: int) -> dict[str, torch.Tensor]:
    """Initialization plus a seeded perturbation, so the fields are not the init's sphere."""
    params = build(spec).init_params(seed)
    gen = torch.Generator().manual_seed(10_000 + seed)
    return {k: v + 0.05 * torch.randn(v.shape, generator=gen) for k, v in params.items()}


def build_dataset(uri: str, archs: list[ArchSpec], dtype: str, extra_rows: bool) -> None:
    rows_total = len(archs) * ROWS_PER_ARCH + (2 if extra_rows else 0)
    listing = [{"id": f"ref-{i:02d}", "uri": f"reference://shape/{i:02d}", "label": ("a", "b", "c")[i % 3],
                "split": "train" if i % 2 else "test", "meta": {"licence": "CC0-1.0"}} for i in range(rows_total)]
    writer = create_weights(uri, listing, archs, dtype=dtype, chunk_rows=4, init_seed=0, overwrite=True,
                            collection={"name": "inrzoo-reference", "licences": {"inrzoo-reference": "CC0-1.0"}},
                            config={"note": "synthetic parameters for conformance tests; not fitted to shapes"})
    results = []
    for g, spec in enumerate(archs):
        for r in range(ROWS_PER_ARCH):
            row = g * ROWS_PER_ARCH + r
            results.append(RowResult(row=row, params=reference_params(spec, row), arch=spec,
                                     transform={"center": [0.1 * row, -0.2, 0.3], "scale": 1.0 + 0.25 * r},
                                     metrics={"final_loss": 0.0, "steps": 0}))
    if extra_rows:
        results.append(RowResult(row=rows_total - 2, status="failed", error="synthetic failure"))
    # the last row stays pending when extra_rows is set
    by_unit = {}
    for result in results:
        by_unit.setdefault(result.row // 4, []).append(result)
    for unit in writer.regions():
        writer.write(unit, by_unit.get(unit.start // 4, []))
    writer.finalize(title="inrzoo reference dataset", description="Synthetic INRs for conformance testing.")


def test_vectors(uri: str) -> dict:
    """Points in [-1,1]^3 per ok row and the float64 reference values there."""
    ds = open_weights(uri, torch_dtype=torch.float64)
    rng = np.random.default_rng(1234)
    rows = []
    for index in range(len(ds)):
        record = ds[index]
        arch = build(record.arch)
        points = rng.uniform(-1.0, 1.0, size=(POINTS_PER_ROW, 3))
        params = {k: v.double().unsqueeze(0) for k, v in record.params.items()}
        with torch.no_grad():
            values = arch.forward(params, torch.from_numpy(points).unsqueeze(0).double())[0].numpy()
        rows.append({"row": record.row, "id": record.id, "points": points.tolist(), "values": values.tolist()})
    return {"dataset": Path(uri).name, "tolerance": {"rtol": 1e-5, "atol": 1e-6}, "rows": rows}


def generate(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, archs, dtype, extra in (("reference.zarr", REFERENCE_ARCHS, "float32", True),
                                      ("reference_bf16.zarr", REFERENCE_ARCHS[:2], "bfloat16", False)):
        path = out_dir / name
        if path.exists():
            shutil.rmtree(path)
        build_dataset(str(path), archs, dtype, extra)
        vectors = out_dir / f"{name.removesuffix('.zarr')}.vectors.json"
        vectors.write_text(json.dumps(test_vectors(str(path)), indent=1) + "\n")
        written += [path, vectors]
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the reference datasets and their test vectors.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=default_dir())
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for path in generate(parser.parse_args(argv).out_dir):
        logging.getLogger(__name__).info("wrote %s", path)


if __name__ == "__main__":
    main()
