"""`make demo`: convert the bundled collection of real meshes on the embedded default.

Local Ray, the dataset on the local filesystem, MLflow with a SQLite store: no services. Logs
the summary table and writes a PNG grid of a few reconstructions next to their originals.

    python -m inrzoo.demo --config jobs/configs/demo.yaml [--out out/demo] [KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from importlib import resources
from pathlib import Path

from inrzoo import geometry
from inrzoo.logs import show_progress
from inrzoo.pipeline import convert, load_convert_config
from inrzoo.pipeline.report import summary_table
from inrzoo.render import comparison_grid
from inrzoo.store import open_weights

logger = logging.getLogger("inrzoo.demo")  # not __name__: run as -m it is "__main__", outside inrzoo's handler


def bundled_collection() -> Path:
    return Path(str(resources.files("inrzoo") / "data" / "demo"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="the demo conversion config (jobs/configs/demo.yaml)")
    parser.add_argument("--out", default="out/demo", help="folder for the dataset and the pictures")
    parser.add_argument("--show", type=int, default=4, help="reconstructions drawn in the PNG grid")
    parser.add_argument("--resolution", type=int, default=64, help="marching-cubes resolution of the grid")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    show_progress()

    started = time.perf_counter()
    out = Path(args.out).resolve()
    dataset_uri = str(out / "dataset.zarr")
    if Path(dataset_uri).exists():
        shutil.rmtree(dataset_uri)  # the demo always converts from scratch
    out.mkdir(parents=True, exist_ok=True)
    source = bundled_collection()
    cfg = load_convert_config(args.config, [f"source.uri={source}", f"output.uri={dataset_uri}",
                                            "source.options.index=index.csv", *args.overrides])
    logger.info("demo: converting %s -> %s with preset %s", source, dataset_uri, cfg.preset)
    report = convert(cfg)
    grid = out / "reconstructions.png"
    draw_reconstructions(dataset_uri, grid, args.show, args.resolution)
    logger.info("demo summary\n%s\n%s  %s\n%s  %.1f s", summary_table(report), "pictures".ljust(16), grid,
                "wall time".ljust(16), time.perf_counter() - started)
    return 0 if report.pending == 0 and report.ok > 0 else 1


def draw_reconstructions(dataset_uri: str, path: Path, count: int, resolution: int) -> Path:
    """Marching cubes of the first `count` fitted INRs, in their original frame, beside the sources."""
    dataset = open_weights(dataset_uri)
    rows = []
    for index in range(min(count, len(dataset))):
        record = dataset.get_records([index], with_params=False)[0]
        original = geometry.load(record.source_uri).to_trimesh()
        rows.append((record.id, original, dataset.extract_mesh(index, resolution=resolution)))
    return comparison_grid(rows, path)


if __name__ == "__main__":
    sys.exit(main())
