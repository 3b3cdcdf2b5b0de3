"""Ray job entrypoint: convert a shape collection into a weight dataset.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python jobs/convert.py --config jobs/configs/davies.yaml source.uri=s3://bucket/meshes output.uri=s3://bucket/ds.zarr

Resubmitting the same command resumes the conversion (finished rows are skipped).
"""

from __future__ import annotations

import argparse
import sys

from inrzoo.pipeline import convert, load_convert_config
from inrzoo.pipeline.report import summary_table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True, help="YAML conversion config (jobs/configs/*.yaml)")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. output.uri=...")
    args = parser.parse_args(argv)
    report = convert(load_convert_config(args.config, args.overrides))
    print(summary_table(report), flush=True)
    return 0 if report.pending == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
