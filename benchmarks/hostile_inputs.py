"""Hostile inputs, one change each: what inrzoo does with each (the outcome), the peak memory
above the reader's own baseline and the time, every case in a fresh process under an
address-space cap (its size after imports + --cap-gib) and a time cap.

    .venv/bin/python benchmarks/hostile_inputs.py [--only SUBSTRING] [--cap-gib 2] [--timeout 120]

Weight datasets: a small real dataset (inrzoo.store.tamper.sample_dataset) with one change,
opened, every record read and verify() run. Source folders: a folder holding one good mesh and
one hostile file, listed and each listed shape prepared (read, parsed, sampled) with the davies
preset. Outcomes: "read intact" (parameters equal the unchanged dataset's), "refused: ..."
(a StoreError naming dataset and array), "failed row: ..." (the file's reason), "ok row",
and, if any, "WRONG ..." or "crash: ..." (defects).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from inrzoo.store.tamper import (
    arch_attrs,
    chunk_files,
    edit_json,
    inflate_rows_keeping_last_chunk,
    rewrite_chunk,
    sample_dataset,
    set_all_rows,
    set_record,
    zstd_bomb_header,
)

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "collections"
GOOD_MESH = DATA / "Old_example011.stl"


def _json(rel: str, change):
    return lambda root: edit_json(root / rel, change)


def _chunk(rel: str, index: int, change):
    return lambda root: rewrite_chunk(chunk_files(root / rel)[index], change)


def _flip(root: Path) -> None:
    chunk = chunk_files(root / "arch/0/layers.1.weight")[1]
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0x55
    chunk.write_bytes(bytes(data))


def _swap(root: Path) -> None:
    first, second = chunk_files(root / "arch/0/layers.0.weight")[:2]
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)


def _nan_sealed(root: Path) -> None:
    import zarr

    from inrzoo.store.integrity import row_crc32

    group = zarr.open_group(str(root), mode="r+", zarr_format=3)
    names = arch_attrs({"attributes": dict(group["arch/0"].attrs)})["param_order"]
    weight = group["arch/0/layers.0.weight"]
    block = weight[0:4]
    block[2, 0, 0] = np.nan
    weight[0:4] = block
    set_record(root, "param_crc32", 2, row_crc32(2, [np.asarray(group[f"arch/0/{n}"][2]) for n in names]))


def _vlen_count(root: Path) -> None:
    import numcodecs

    zstd = numcodecs.Zstd(level=0)
    rewrite_chunk(chunk_files(root / "records/split")[0],
                  lambda data: zstd.encode((4_000_000_000).to_bytes(4, "little") + zstd.decode(data)[4:]))


def _huge_param_shape(root: Path) -> None:
    edit_json(root / "arch/0/zarr.json", lambda m: arch_attrs(m)["param_shapes"].update({"layers.1.weight": [32, 10**9]}))
    edit_json(root / "arch/0/layers.1.weight/zarr.json", lambda m: m.update(
        shape=[10, 32, 10**9], chunk_grid={"name": "regular", "configuration": {"chunk_shape": [4, 32, 10**9]}}))


def _big_attribute(root: Path) -> None:
    edit_json(root / "zarr.json", lambda m: m["attributes"]["inrzoo"]["collection"].update(blob="x" * 20_000_000))


DATASET_CASES = {
    "intact dataset": lambda root: None,
    "3*10^8 rows declared in every array": lambda root: set_all_rows(root, 300_000_000),
    "10^12 rows declared in every array": lambda root: set_all_rows(root, 10**12),
    "4000 rows declared, last record chunk planted": lambda root: inflate_rows_keeping_last_chunk(root, 4000),
    "parameter declared [32, 10^9]": _huge_param_shape,
    "spec 3x64 over 3x16 arrays": _json("arch/0/zarr.json", lambda m: arch_attrs(m)["spec"].update(hidden=[64] * 3)),
    "spec 3x10^9 over 3x16 arrays": _json("arch/0/zarr.json", lambda m: arch_attrs(m)["spec"].update(hidden=[10**9] * 3)),
    "spec name not a string": _json("arch/0/zarr.json", lambda m: arch_attrs(m)["spec"].update(name={"x": 1})),
    "spec name unknown (foreign architecture)": _json("arch/1/zarr.json", lambda m: arch_attrs(m)["spec"].update(name="mystery_net")),
    "parameter float32 retyped int32": _json("arch/0/layers.0.weight/zarr.json", lambda m: m.update(data_type="int32")),
    "group dtype attribute bfloat16 over float32": _json("arch/1/zarr.json", lambda m: arch_attrs(m).update(dtype="bfloat16")),
    "param_order reversed": _json("arch/0/zarr.json", lambda m: arch_attrs(m)["param_order"].reverse()),
    "num_params off by one": _json("arch/0/zarr.json", lambda m: arch_attrs(m).update(num_params=arch_attrs(m)["num_params"] + 1)),
    "arch_row = -1 (status ok)": lambda root: set_record(root, "arch_row", 1, -1),
    "arch_row of another row": lambda root: set_record(root, "arch_row", 1, 2),
    "arch = 5 of 2 groups": lambda root: set_record(root, "arch", 0, 5),
    "label = 7 of 2 names": lambda root: set_record(root, "label", 0, 7),
    "status code 9": lambda root: set_record(root, "status", 3, 9),
    "status fill value 1 (missing chunks read ok)": _json("records/status/zarr.json", lambda m: m.update(fill_value=1)),
    "meta not JSON": lambda root: set_record(root, "meta", 2, "{not json"),
    "crc32c codec removed": _json("records/label/zarr.json", lambda m: m.update(codecs=m["codecs"][:-1])),
    "transpose codec added": _json("arch/0/layers.0.weight/zarr.json", lambda m: m.update(
        codecs=[{"name": "transpose", "configuration": {"order": [0, 2, 1]}}, *m["codecs"]])),
    "big-endian bytes codec": _json("arch/0/layers.0.weight/zarr.json", lambda m: m["codecs"][0].update(
        configuration={"endian": "big"})),
    "chunk grid [2] over layout 4": _json("records/split/zarr.json", lambda m: m.update(
        chunk_grid={"name": "regular", "configuration": {"chunk_shape": [2]}})),
    "layout.chunk_rows 10^9": _json("zarr.json", lambda m: m["attributes"]["inrzoo"]["layout"].update(chunk_rows=10**9)),
    "chunk key separator '.'": _json("records/id/zarr.json", lambda m: m.update(
        chunk_key_encoding={"name": "default", "configuration": {"separator": "."}})),
    "format_version 2.0": _json("zarr.json", lambda m: m["attributes"]["inrzoo"].update(format_version="2.0")),
    "format_version claims 1.0": _json("zarr.json", lambda m: m["attributes"]["inrzoo"].update(format_version="1.0")),
    "archs[0].group '../../etc'": _json("zarr.json", lambda m: m["attributes"]["inrzoo"]["archs"][0].update(group="../../etc")),
    "label_names not a list": _json("zarr.json", lambda m: m["attributes"]["inrzoo"].update(label_names="ab")),
    "root zarr.json truncated": lambda root: (root / "zarr.json").write_bytes((root / "zarr.json").read_bytes()[:100]),
    "records/status deleted": lambda root: shutil.rmtree(root / "records/status"),
    "20 MB attribute (real bytes)": _big_attribute,
    "harmless: created.by changed": _json("zarr.json", lambda m: m["attributes"]["inrzoo"]["created"].update(by="x")),
    "harmless: array attribute added": _json("records/label/zarr.json", lambda m: m.update(attributes={"note": "x"})),
    "parameter chunk: one byte flipped": _flip,
    "parameter chunk deleted": lambda root: chunk_files(root / "arch/0/layers.2.weight")[0].unlink(),
    "two parameter chunks swapped": _swap,
    "NaN in an ok row, checksums resealed": _nan_sealed,
    "zstd frame claims 2^40 bytes (sealed)": _chunk("records/id", 0, lambda d: zstd_bomb_header(2**40)),
    "zstd frame without content size (sealed)": _chunk("records/id", 0, lambda d: d[:4] + bytes([0x00]) + d[5:]),
    "blosc header claims 2^31 bytes (sealed)": _chunk("arch/1/layers.0.weight", 0,
                                                      lambda d: d[:4] + (2**31 - 1).to_bytes(4, "little") + d[8:]),
    "vlen-utf8 declares 4*10^9 strings (sealed)": _vlen_count,
    "stray chunk key outside the grid": lambda root: (root / "records/label/c/77").write_bytes(b"junk"),
}


def _gzip_bomb() -> tuple[str, callable]:
    return "gzip chunk inflating to 50 MB (sealed)", _chunk("arch/0/output.bias", 0,
                                                           lambda d: gzip.compress(b"\0" * 50_000_000))


def _ply(count: int, body: bytes, binary: bool = False) -> bytes:
    kind = "binary_little_endian" if binary else "ascii"
    return (f"ply\nformat {kind} 1.0\nelement vertex {count}\nproperty float x\nproperty float y\n"
            f"property float z\nend_header\n").encode() + body


def _npy(shape_text: bytes) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((4, 3)))
    return buffer.getvalue().replace(b"(4, 3)", shape_text, 1)


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def _write(name: str, data: bytes):
    return lambda folder, outside: (folder / name).write_bytes(data)


def _binary_stl(count: int) -> bytes:
    import trimesh

    data = trimesh.creation.box().export(file_type="stl")
    return data[:80] + struct.pack("<I", count) + data[84:]


def _zip_bomb(folder: Path, outside: Path) -> None:
    """points.npy of 60M x 3 float64 zeros (1.44 GB) deflated to about 1.4 MB, written in pieces."""
    rows = 60_000_000
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (rows, 3)})
    with zipfile.ZipFile(folder / "bomb.npz", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("points.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            left, piece = rows * 3 * 8, bytes(1 << 24)
            while left:
                member.write(piece[:min(left, len(piece))])
                left -= min(left, len(piece))


def _sparse(path: Path, size: int) -> None:
    path.touch()
    os.truncate(path, size)


SOURCE_CASES = {
    "good mesh only": lambda folder, outside: None,
    "empty .ply": _write("empty.ply", b""),
    "garbage .ply": _write("garbage.ply", os.urandom(512)),
    "empty .stl": _write("empty.stl", b""),
    "PLY header: 10^12 vertices over 2": _write("forged.ply", _ply(10**12, b"0 0 0\n1 1 1\n")),
    "binary PLY: 3 vertices over 2": _write("short.ply", _ply(3, struct.pack("<6f", 0, 0, 0, 1, 1, 1), binary=True)),
    "binary STL header: 4*10^9 triangles": _write("forged.stl", _binary_stl(4_000_000_000)),
    "NPY header: [4*10^11, 3] float64": _write("forged.npy", _npy(b"(400000000000, 3)")),
    "NPZ member with forged NPY header": _write("forged.npz", _zip("points.npy", _npy(b"(400000000000, 3)"))),
    "NPZ deflate bomb (1.4 GB of zeros)": _zip_bomb,
    "binvox dims 10^5 cubed": _write("huge.binvox", b"#binvox 1\ndim 100000 100000 100000\ndata\n" + bytes([1, 255]) * 4),
    "OBJ face index 10^12": _write("bad.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 1000000000000\n"),
    "OBJ with NaN vertex": _write("nan.obj", b"v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n"),
    "all vertices equal": _write("point.obj", b"v 1 1 1\nv 1 1 1\nv 1 1 1\nf 1 2 3\n"),
    "sparse 3 GB file": lambda folder, outside: _sparse(folder / "sparse.stl", 3 * 1024**3),
    "FIFO named .stl": lambda folder, outside: os.mkfifo(folder / "pipe.stl"),
    "link to a file outside the root": lambda folder, outside: os.symlink(outside / "private.stl", folder / "out.stl"),
    "broken link": lambda folder, outside: os.symlink(outside / "nowhere.stl", folder / "dangling.stl"),
    "folder link looping to the root": lambda folder, outside: os.symlink(folder, folder / "loop"),
    "folder named .stl": lambda folder, outside: (folder / "dir.stl").mkdir(),
    "file name not UTF-8": lambda folder, outside: open(os.fsencode(folder) + b"/caf\xe9.stl", "wb").write(
        GOOD_MESH.read_bytes()),
    "point cloud under the davies preset": _write("scan.xyz", "\n".join(
        f"{x:.3f} {y:.3f} {z:.3f}" for x, y, z in np.random.default_rng(0).uniform(-1, 1, (300, 3))).encode()),
}


def child_dataset(path: str) -> dict:
    import inrzoo
    from inrzoo.store import StoreError, verify
    from inrzoo.store.tamper import sample_result

    try:
        ds = inrzoo.open_weights(path, status=None)
        records = ds[:]
    except StoreError as exc:
        return {"outcome": "refused", "detail": str(exc).replace(path, "<ds>")}
    wrong = [r.row for r in records if r.params is not None and any(
        not np.array_equal(v.numpy(), sample_result(r.row).params[k].numpy()) for k, v in r.params.items())]
    report = verify(path)
    if wrong:
        return {"outcome": "WRONG parameters", "detail": f"rows {wrong}"}
    detail = "verify ok" if report.ok else "verify: " + report.problems[0].replace(path, "<ds>")
    return {"outcome": "read intact", "detail": f"{len(records)} rows; {detail}"}


def child_source(folder: str) -> dict:
    from inrzoo.collections import get
    from inrzoo.pipeline import load_convert_config
    from inrzoo.pipeline.config import resolve
    from inrzoo.pipeline.prepare import prepare_shape

    refs = [ref.to_dict() for ref in get("folder", folder).list()]
    conv = resolve(load_convert_config(None, [f"source.uri={folder}", "output.uri=memory://x", "preset=davies",
                                              "sampler.options.n=2048", "sampler.options.pool_size=10000",
                                              "eval.surface_points=1000"]))
    hostile = [ref for ref in refs if not ref["id"].endswith("good.stl")]
    if not hostile:
        return {"outcome": "ok row", "detail": f"{len(refs)} listed"}
    prepared = prepare_shape(hostile[0], 1, conv)
    if prepared.status == "ok":
        return {"outcome": "ok row", "detail": hostile[0]["id"]}
    return {"outcome": "failed row", "detail": prepared.error.replace(folder, "<src>")}


def child(kind: str, path: str, cap: int) -> None:
    status = open("/proc/self/status").read()
    size = int(status.split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + cap, size + cap))
    baseline = int(status.split("VmRSS:")[1].split()[0])
    started = time.perf_counter()
    try:
        answer = child_dataset(path) if kind == "dataset" else child_source(path)
    except BaseException as exc:  # noqa: BLE001 - a defect, reported as such
        answer = {"outcome": "crash", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    answer["seconds"] = time.perf_counter() - started
    peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    answer["extra_mib"] = (peak - baseline) / 1024
    answer["peak_mib"] = peak / 1024
    print(json.dumps(answer))


def run(kind: str, path: Path, cap: int, timeout: float) -> dict:
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, __file__, "--child", kind, str(path), "--cap-bytes", str(cap)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"outcome": "crash", "detail": f"no answer within {timeout} s", "seconds": timeout,
                "extra_mib": float("nan"), "peak_mib": float("nan")}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"outcome": "crash", "detail": f"exit {done.returncode}: {done.stderr[-300:]}",
                "seconds": time.perf_counter() - started, "extra_mib": float("nan"), "peak_mib": float("nan")}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--cap-gib", type=float, default=2.0, help="address space above the size after imports")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--cap-bytes", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.cap_bytes)
        return
    cap = int(args.cap_gib * 2**30)
    dataset_cases = {**DATASET_CASES, _gzip_bomb()[0]: _gzip_bomb()[1]}
    print(f"| input | outcome | extra memory (MiB) | peak RSS (MiB) | seconds |\n|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        base = sample_dataset(Path(tmp) / "base.zarr")
        gz = sample_dataset(Path(tmp) / "gzip.zarr", codec="gzip")
        for name, change in dataset_cases.items():
            if args.only not in name:
                continue
            target = Path(tmp) / "case.zarr"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(gz if name.startswith("gzip") else base, target)
            change(target)
            report(f"dataset: {name}", run("dataset", target, cap, args.timeout))
        for name, make in SOURCE_CASES.items():
            if args.only not in name:
                continue
            folder, outside = Path(tmp) / "src" / name.replace(" ", "_").replace("/", "_"), Path(tmp) / "outside"
            folder.mkdir(parents=True)
            outside.mkdir(exist_ok=True)
            shutil.copy(GOOD_MESH, folder / "good.stl")
            shutil.copy(GOOD_MESH, outside / "private.stl")
            make(folder, outside)
            report(f"source: {name}", run("source", folder, cap, args.timeout))


def report(name: str, answer: dict) -> None:
    detail = answer["detail"].replace("|", "/").replace("\n", " ")[:160]
    print(f"| {name} | {answer['outcome']}: {detail} | {answer['extra_mib']:.0f} | {answer['peak_mib']:.0f} | "
          f"{answer['seconds']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
