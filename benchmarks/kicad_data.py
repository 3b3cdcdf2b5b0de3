"""The KiCad 3D-package benchmark data: fetch Debian's kicad-packages3d, choose the parts, fix
the split, check the bytes. Used by benchmarks/weightspace_kicad.py; never by the tests.

    apt-get update && apt-get download kicad-packages3d && dpkg -x kicad-packages3d_*.deb root

gives root/usr/share/kicad/3dmodels/<Library>.3dshapes/<part>.wrl (6,227 parts in 90 libraries
for 6.0.10-1, 5.3 GB unpacked). The split file committed next to the benchmark
(benchmarks/data/kicad_split.json) lists every part with its library, split and sha256, plus the
rule that chose them; `verify` refuses to go on when a file's bytes differ from the recorded ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import subprocess
from pathlib import Path
from typing import Any

from inrzoo.collections.base import natural_key

log = logging.getLogger(__name__)

PACKAGE = "kicad-packages3d"
MODELS = "usr/share/kicad/3dmodels"
SPLIT_FILE = Path(__file__).resolve().parent / "data" / "kicad_split.json"
# chosen: the 24 largest libraries once the families that only rescale the same parts are
# reduced to one member (pin headers/sockets at 1.00/1.27/2.00 mm pitch keep only 2.54 mm;
# Phoenix MC, GMSTB and MC_HighVoltage terminal connectors keep only MSTB): after the
# normalization into [-1, 1]^3 those families are the same shapes under different labels.
LIBRARIES = (
    "Capacitor_THT", "Connector_PinSocket_2.54mm", "Connector_PinHeader_2.54mm", "Package_DFN_QFN",
    "Mounting_Wuerth", "Package_DIP", "Package_SO", "Connector_Phoenix_MSTB", "Inductor_THT", "Connector_JST",
    "Connector_Dsub", "Resistor_THT", "Button_Switch_SMD", "Varistor", "Crystal", "Package_TO_SOT_THT",
    "Diode_THT", "Capacitor_SMD", "Connector_Molex", "TerminalBlock_Phoenix", "Package_BGA", "LED_THT",
    "Package_QFP", "Package_TO_SOT_SMD",
)
PER_CLASS = 90  # chosen: at most 90 parts per library (a seeded draw), 2,086 parts in all
FRACTIONS = {"test": 0.2, "val": 0.1}  # of each library's parts; the rest is train


def fetch(cache: Path) -> tuple[Path, dict[str, str]]:
    """Download and unpack the Debian package into `cache` (skipped when already there); returns the
    3dmodels root and the package's file name and sha256."""
    cache.mkdir(parents=True, exist_ok=True)
    debs = sorted(cache.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        log.info("apt-get update && apt-get download %s into %s", PACKAGE, cache)
        subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "download", PACKAGE], check=True, cwd=cache)
        debs = sorted(cache.glob(f"{PACKAGE}_*.deb"))
    deb = debs[-1]
    root = cache / "root"
    if not (root / MODELS).is_dir():
        log.info("dpkg -x %s (5.3 GB unpacked)", deb.name)
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root / MODELS, {"deb": deb.name, "deb_sha256": sha256(deb)}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_split(models: Path, package: dict[str, str], seed: int = 0) -> dict[str, Any]:
    """Choose up to PER_CLASS parts of each library and split them by part, stratified by library."""
    parts = []
    for library in LIBRARIES:
        files = sorted((p.name for p in (models / f"{library}.3dshapes").glob("*.wrl")), key=natural_key)
        if not files:
            raise FileNotFoundError(f"{models}: no parts in {library}.3dshapes")
        chosen = random.Random(f"{seed}:{library}").sample(files, min(PER_CLASS, len(files)))
        n_test, n_val = (round(len(chosen) * FRACTIONS[s]) for s in ("test", "val"))
        splits = ["test"] * n_test + ["val"] * n_val + ["train"] * (len(chosen) - n_test - n_val)
        for name, split in zip(chosen, splits):
            rel = f"{library}.3dshapes/{name}"
            parts.append({"file": rel, "label": library, "split": split, "sha256": sha256(models / rel)})
    parts.sort(key=lambda p: natural_key(p["file"]))
    return {
        "package": {"name": PACKAGE, **package},
        "rule": {"libraries": list(LIBRARIES), "per_class": PER_CLASS, "fractions": FRACTIONS, "seed": seed,
                 "draw": "random.Random(f'{seed}:{library}').sample(natural-sorted .wrl names, per_class); "
                         "first test, then val, then train"},
        "checksum": split_checksum(parts),
        "parts": parts,
    }


def split_checksum(parts: list[dict[str, Any]]) -> str:
    """One sha256 over (file, split, sha256) of every part: names the exact benchmark."""
    lines = sorted(f"{p['file']}\t{p['split']}\t{p['sha256']}" for p in parts)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def write_split(split: dict[str, Any], path: Path) -> None:
    """JSON with one part per line (reviewable diffs, ~0.4 MB for the full split)."""
    head = {k: v for k, v in split.items() if k != "parts"}
    lines = ",\n".join(json.dumps(part, sort_keys=True) for part in split["parts"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(head, indent=1)[:-2] + ',\n "parts": [\n' + lines + "\n ]\n}\n")


def load_split(path: Path = SPLIT_FILE) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if split_checksum(data["parts"]) != data["checksum"]:
        raise ValueError(f"{path}: the parts do not match the recorded checksum {data['checksum']}")
    return data


def verify(models: Path, split: dict[str, Any]) -> None:
    """Every listed part exists with the recorded bytes (else an error naming the first few)."""
    bad = []
    for part in split["parts"]:
        path = models / part["file"]
        if not path.is_file():
            bad.append(f"{part['file']} (missing)")
        elif sha256(path) != part["sha256"]:
            bad.append(f"{part['file']} (sha256 differs)")
    if bad:
        raise ValueError(f"{models}: {len(bad)} part(s) differ from the split file: {bad[:5]}")
    log.info("%d parts verified against their sha256", len(split["parts"]))


def quick_slice(split: dict[str, Any], per_class: dict[str, int], classes: int) -> dict[str, Any]:
    """The first `classes` libraries with their first parts of each split (the --quick slice)."""
    kept = set(split["rule"]["libraries"][:classes])
    taken: dict[tuple[str, str], int] = {}
    parts = []
    for part in split["parts"]:
        key = (part["label"], part["split"])
        if part["label"] in kept and taken.get(key, 0) < per_class[part["split"]]:
            taken[key] = taken.get(key, 0) + 1
            parts.append(part)
    return {**split, "parts": parts, "checksum": split_checksum(parts)}
