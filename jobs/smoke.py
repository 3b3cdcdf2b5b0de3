"""Smoke job for a Ray cluster and its object store: a tiny Ray Data pipeline whose rows are
written as Parquet by the workers and whose summary is written by the driver.

    ray job submit --working-dir jobs -- python smoke.py s3://inrzoo/smoke/run1 --items 20

The S3 endpoint and credentials come from the environment (AWS_ENDPOINT_URL,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; pass them with --runtime-env-json env_vars).
Output: <uri>/squares/*.parquet and <uri>/summary.json.
"""

from __future__ import annotations

import argparse
import json


def square(row: dict) -> dict:
    return {"id": row["id"], "square": row["id"] * row["id"]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="fsspec URI of the output directory")
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args(argv)

    import fsspec
    import pyarrow.fs
    import ray

    ray.init()  # inside `ray job submit`, RAY_ADDRESS points at the cluster
    fs, root = fsspec.core.url_to_fs(args.output)
    squares = ray.data.range(args.items, override_num_blocks=4).map(square).materialize()
    # Workers write their blocks themselves through the same fsspec filesystem.
    squares.write_parquet(f"{root}/squares", filesystem=pyarrow.fs.PyFileSystem(
        pyarrow.fs.FSSpecHandler(fs)))
    summary = {
        "items": squares.count(),
        "sum_of_squares": int(squares.sum("square")),
        "nodes": len(ray.nodes()),
    }
    with fs.open(f"{root}/summary.json", "w") as handle:
        json.dump(summary, handle)
    print("smoke summary:", json.dumps(summary), flush=True)
    return summary


if __name__ == "__main__":
    main()
