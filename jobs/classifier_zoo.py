"""Ray job entrypoint: train a zoo of image classifiers and store it as a weight dataset.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python jobs/classifier_zoo.py --config jobs/configs/digits_classifiers.yaml output.uri=s3://inrzoo/zoos/digits.zarr

Resubmitting the same command resumes (instances already trained are kept).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from inrzoo.classifiers import build_classifier_zoo, load_zoo_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="YAML zoo config (jobs/configs/digits_classifiers.yaml)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. output.uri=...")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    report = build_classifier_zoo(load_zoo_config(args.config, args.overrides))
    stats = report["statistics"]
    print(json.dumps({"uri": report["uri"], "rows": report["rows"], "trained": report["trained"],
                      "seconds": round(report["seconds"], 1), "status": stats["status"], "arch": stats["arch"]}), flush=True)
    return 0 if stats["status"].get("ok", 0) == report["rows"] else 1


if __name__ == "__main__":
    sys.exit(main())
