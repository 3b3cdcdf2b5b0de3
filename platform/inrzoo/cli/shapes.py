"""`inrzoo render` and `inrzoo mesh`: pictures and meshes of the INRs of a weight dataset.

    inrzoo render out/ds.zarr --rows 0:16 --out grid.png [--size 192] [--originals]
    inrzoo mesh out/ds.zarr --rows 0:4 --out meshes/ --format ply|obj|glb [--resolution 128]
"""

from __future__ import annotations

import argparse
import re
import time

from inrzoo.cli.common import emit, parse_options

FORMATS = ("ply", "obj", "glb")
DEFAULT_ROWS = "0:16"
ROWS_HELP = ("which fitted rows (positions among the rows with status ok): START:STOP[:STEP], a number, "
             f"or a comma list such as 0,3,7 (default {DEFAULT_ROWS})")
STORAGE_OPTION_HELP = "fsspec storage option of the dataset (repeatable), e.g. endpoint_url=http://127.0.0.1:8333"


def add_commands(commands) -> None:
    rows_help, options_help = ROWS_HELP, STORAGE_OPTION_HELP

    render = commands.add_parser("render", help="sphere-traced pictures of a dataset's INRs in one PNG",
                                 description="Draw INRs of a weight dataset by sphere tracing (Lambert shading, "
                                             "floor shadow) into one PNG grid, optionally beside their source meshes.")
    render.add_argument("dataset", help="URI of the weight dataset")
    render.add_argument("--rows", default=DEFAULT_ROWS, help=rows_help)
    render.add_argument("--out", default="grid.png", help="PNG to write, local path or fsspec URI (default grid.png)")
    render.add_argument("--size", type=int, default=192, help="pixels per picture, square (default 192)")
    render.add_argument("--columns", type=int, default=None, help="pictures per row of the grid (default: a square grid)")
    render.add_argument("--originals", action="store_true",
                        help="draw each source mesh above its INR (read from the row's source URI)")
    render.add_argument("--lipschitz", choices=("estimated", "certified"), default="estimated",
                        help="step bound of the sphere tracer: estimated (default, sampled gradients x 1.5) or "
                             "certified (product of spectral norms: a proof, and 100-800 times slower)")
    render.add_argument("--storage-option", dest="storage_options", action="append", default=[], metavar="KEY=VALUE",
                        help=options_help)
    render.set_defaults(run=run_render)

    mesh = commands.add_parser("mesh", help="marching-cubes meshes of a dataset's INRs, one file per row",
                               description="Extract the surface of INRs of a weight dataset by marching cubes and "
                                           "write one mesh file per row.")
    mesh.add_argument("dataset", help="URI of the weight dataset")
    mesh.add_argument("--rows", default=DEFAULT_ROWS, help=rows_help)
    mesh.add_argument("--out", required=True, help="folder to write the meshes into (local path or fsspec URI)")
    mesh.add_argument("--format", choices=FORMATS, default="ply", help="mesh file format (default ply)")
    mesh.add_argument("--resolution", type=int, default=128, help="marching-cubes grid points per axis (default 128)")
    mesh.add_argument("--frame", choices=("original", "normalized"), default="original",
                      help="original: the source shape's coordinates (default); normalized: the INR's frame")
    mesh.add_argument("--storage-option", dest="storage_options", action="append", default=[], metavar="KEY=VALUE",
                      help=options_help)
    mesh.set_defaults(run=run_mesh)


def parse_rows(text: str, count: int, uri: str) -> list[int]:
    """Positions from START:STOP[:STEP], N or a comma list, checked against `count` fitted rows."""
    text = text.strip()
    if re.fullmatch(r"-?\d*:-?\d*(:-?\d+)?", text):
        parts = [int(p) if p else None for p in text.split(":")]
        if len(parts) == 3 and parts[2] == 0:
            raise ValueError(f"--rows {text!r}: the step cannot be 0")
        positions = list(range(count))[slice(*parts)]
    elif re.fullmatch(r"-?\d+(,-?\d+)*", text):
        positions = [int(p) for p in text.split(",")]
        bad = [p for p in positions if not -count <= p < count]
        if bad:
            raise ValueError(f"--rows {text!r}: {uri} has {count} fitted rows; {bad} out of range")
        positions = [p % count for p in positions]
    else:
        raise ValueError(f"--rows {text!r}: expected START:STOP[:STEP], a number or a comma list")
    if not positions:
        raise ValueError(f"--rows {text!r} selects no row of {uri} ({count} fitted rows)")
    return positions


def row_file_stem(position: int, row_id: str) -> str:
    """<position>_<id> with characters that are unsafe in file names replaced."""
    return f"{position:04d}_{re.sub(r'[^A-Za-z0-9._-]+', '_', row_id)}"


def open_rows(uri: str, rows: str, storage_options: list[str]):
    """The dataset at `uri` (fitted rows) and the positions --rows selects."""
    import inrzoo

    dataset = inrzoo.open_weights(uri, parse_options(storage_options))
    return dataset, parse_rows(rows, len(dataset), uri)


def run_render(args: argparse.Namespace) -> int:
    import fsspec

    from inrzoo.render import render_grid

    if args.size < 8:
        raise ValueError(f"--size {args.size}: pictures need at least 8 pixels")
    dataset, positions = open_rows(args.dataset, args.rows, args.storage_options)
    started = time.perf_counter()
    with fsspec.open(args.out, "wb") as handle:
        render_grid(dataset, positions, handle, size=args.size, columns=args.columns, originals=args.originals,
                    lipschitz=args.lipschitz)
    emit(f"wrote {args.out}: {len(positions)} rows of {args.dataset}, {args.size}x{args.size} px each, "
         f"in {time.perf_counter() - started:.1f} s")
    return 0


def run_mesh(args: argparse.Namespace) -> int:
    import fsspec

    from inrzoo.fields import dataset_fields
    from inrzoo.store.frames import to_source_frame

    if args.resolution < 8:
        raise ValueError(f"--resolution {args.resolution}: marching cubes needs at least 8 points per axis")
    dataset, positions = open_rows(args.dataset, args.rows, args.storage_options)
    records = dataset.get_records(positions, with_params=False)
    fs, root = fsspec.core.url_to_fs(args.out)
    fs.makedirs(root, exist_ok=True)
    started = time.perf_counter()
    for members, field in dataset_fields(dataset, positions):
        if field.kind == "udf":
            raise ValueError(f"{args.dataset}: rows {[records[m].id for m in members]} are unsigned distance fields; "
                             "marching cubes needs an inside (sample points with inrzoo.geometry.points_from_udf)")
        for k, member in enumerate(members):
            record = records[member]
            mesh = field.mesh(args.resolution, row=k)
            if args.frame == "original":
                mesh.vertices = to_source_frame(mesh.vertices, record.transform, record.meta)
            name = f"{row_file_stem(positions[member], record.id)}.{args.format}"
            data = mesh.export(file_type=args.format)  # text for obj, bytes for ply and glb
            with fs.open(f"{root}/{name}", "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            emit(f"{root}/{name}: {len(mesh.vertices)} vertices, {len(mesh.faces)} faces")
    emit(f"{len(positions)} meshes of {args.dataset} in {time.perf_counter() - started:.1f} s")
    return 0
