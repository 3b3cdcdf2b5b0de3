"""A human body as plain arrays: mesh, joints, per-vertex body part, and the garment frame.

`Body` is what the garment generator and the draping models consume, whatever body model made
it (anny here; SMPL-like models could give the same). It saves to and loads from one .npz file
(no pickle), so tests and data jobs can use a body without building the body model.

Frame conventions (anny's): metres, z up, the body faces -y, its left side is +x.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inrzoo.geometry import GeometryError, Mesh, Similarity

# Body parts a vertex can belong to (by its dominant skinning bone).
PARTS = ("torso", "neck", "head", "arm.L", "arm.R", "hand.L", "hand.R", "leg.L", "leg.R", "foot.L", "foot.R")
# Joints every Body must name (positions of bone heads in anny's rig, see anny_model.JOINT_BONES).
JOINTS = (
    "root", "spine_low", "spine_mid", "chest", "neck", "head",
    "shoulder.L", "elbow.L", "wrist.L", "shoulder.R", "elbow.R", "wrist.R",
    "hip.L", "knee.L", "ankle.L", "hip.R", "knee.R", "ankle.R",
)
# The garment frame keeps the whole body inside this fraction of the [-1, 1] half-width.
FRAME_FILL = 0.95


@dataclass(frozen=True, eq=False)
class Body:
    """vertices float64 [V,3], faces int64 [F,3], part index int8 [V] into PARTS, joints name -> [3]."""

    vertices: np.ndarray
    faces: np.ndarray
    parts: np.ndarray
    joints: dict[str, np.ndarray]
    source: str = "<memory>"
    meta: dict[str, float] = field(default_factory=dict)  # e.g. the phenotype that made it

    def __post_init__(self) -> None:
        mesh = Mesh(self.vertices, self.faces, source=self.source)  # validates shapes and indices
        object.__setattr__(self, "vertices", mesh.vertices)
        object.__setattr__(self, "faces", mesh.faces)
        parts = np.asarray(self.parts)
        if parts.shape != (len(mesh.vertices),) or parts.min() < 0 or parts.max() >= len(PARTS):
            raise GeometryError(self.source, f"parts must be [{len(mesh.vertices)}] indices into {PARTS}")
        object.__setattr__(self, "parts", parts.astype(np.int8))
        missing = [name for name in JOINTS if name not in self.joints]
        if missing:
            raise GeometryError(self.source, f"body joints {missing} are missing")
        joints = {name: np.asarray(self.joints[name], dtype=np.float64).reshape(3) for name in self.joints}
        object.__setattr__(self, "joints", joints)

    def mesh(self) -> Mesh:
        return Mesh(self.vertices, self.faces, source=self.source)

    def part_vertices(self, *names: str) -> np.ndarray:
        """The vertices [M,3] whose part is one of `names`."""
        unknown = [n for n in names if n not in PARTS]
        if unknown:
            raise ValueError(f"unknown body part(s) {unknown}; known: {PARTS}")
        wanted = np.isin(self.parts, [PARTS.index(n) for n in names])
        return self.vertices[wanted]

    def waist_height(self) -> float:
        """z of the natural waist: the slimmest horizontal slab of the torso between hips and chest."""
        torso = self.part_vertices("torso")
        low, high = self.joints["root"][2], self.joints["chest"][2]
        heights = np.linspace(low, high, 24)
        slab = 0.5 * (heights[1] - heights[0])
        widths = []
        for z in heights:
            ring = torso[np.abs(torso[:, 2] - z) <= slab]
            widths.append(np.ptp(ring[:, 0]) + np.ptp(ring[:, 1]) if len(ring) > 8 else np.inf)
        return float(heights[int(np.argmin(widths))])

    def garment_frame(self) -> Similarity:
        """The normalized frame shared by every garment made on this body.

        Chosen (the thesis states only that tops and bottoms lie in the upper and lower halves
        of [-1, 1]^3): the waist at z = 0, centred on the body's box in x and y, one uniform
        scale that keeps the whole body within FRAME_FILL of the cube. Bottoms hang below the
        waist (z < 0); tops sit above it, reaching below only by their hem (and dresses).
        """
        low, high = self.vertices.min(axis=0), self.vertices.max(axis=0)
        center = np.array([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2, self.waist_height()])
        scale = float(np.abs(self.vertices - center).max()) / FRAME_FILL
        return Similarity(center, scale)

    def save(self, path):
        """Write the body as one compressed .npz (a path or a binary file object)."""
        path = path if hasattr(path, "write") else Path(path)
        arrays = {f"joint/{name}": value for name, value in self.joints.items()}
        arrays.update({f"meta/{name}": np.float64(value) for name, value in self.meta.items()})
        np.savez_compressed(path, vertices=self.vertices.astype(np.float32), faces=self.faces.astype(np.int32),
                            parts=self.parts, part_names=np.array(PARTS), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Body:
        try:
            with np.load(path, allow_pickle=False) as data:
                names = [str(n) for n in data["part_names"]]
                if tuple(names) != PARTS:
                    raise GeometryError(str(path), f"part names {names} differ from {PARTS}")
                joints = {k.split("/", 1)[1]: data[k] for k in data.files if k.startswith("joint/")}
                meta = {k.split("/", 1)[1]: float(data[k]) for k in data.files if k.startswith("meta/")}
                return cls(data["vertices"], data["faces"], data["parts"], joints, source=str(path), meta=meta)
        except (OSError, KeyError, ValueError) as exc:
            if isinstance(exc, GeometryError):
                raise
            raise GeometryError(str(path), f"not a body file ({exc})") from exc
