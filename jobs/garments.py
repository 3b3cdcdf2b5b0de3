"""Job entrypoint: generate the garment collection (open meshes fitted around the anny body).

    python jobs/garments.py --config jobs/configs/garments.yaml output=data/garments

Writes meshes/, index.csv, body.npz and garments.yaml under `output` (see inrzoo.garments.dataset).
"""

from __future__ import annotations

import argparse
import logging
import sys

from inrzoo import config
from inrzoo.garments.dataset import GarmentDataConfig, generate_garments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="YAML garment-data config (defaults: 465 garments, anny average body)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. output=...")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    summary = generate_garments(config.load(GarmentDataConfig, args.config, args.overrides))
    print(f"written {summary['written']}, failed {len(summary['failed'])}", flush=True)
    return 0 if not summary["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
