"""The open `anny` body model (PyPI anny: Apache-2.0 code, CC0 MakeHuman-based assets) as `Body`s.

anny is a differentiable, skinned, parametric body in PyTorch; it stands where De Luigi's thesis
uses SMPL. Its phenotype parameters (gender, age, muscle, weight, height, proportions, each in
[0, 1], 0.5 the average) play the part of SMPL's shape beta, and per-bone local rotations that of
SMPL's pose theta. Everything used here works offline: the model data ship in the wheel and are
built once (minutes) into anny's cache (~/.cache/anny, or $ANNY_CACHE_DIR), later loads take
seconds. anny's SMPL-conversion helpers download non-commercial data and are never used here.

    model = AnnyBodyModel()
    body = model.body()                                  # the average body in its rest pose
    posed = model.body(pose={"upperarm01.L": [0, 0.5, 0]})  # axis-angle per bone, radians

Skinning uses anny's pure-torch linear blend skinning ("lbs"), which needs no kernel compiler.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from inrzoo.bodies.body import PARTS, Body

logger = logging.getLogger(__name__)

# Our joint names -> the anny bone whose head sits there (anny's default rig).
JOINT_BONES = {
    "root": "root", "spine_low": "spine04", "spine_mid": "spine03", "chest": "spine01", "neck": "neck01",
    "head": "head",
    "shoulder.L": "upperarm01.L", "elbow.L": "lowerarm01.L", "wrist.L": "wrist.L",
    "shoulder.R": "upperarm01.R", "elbow.R": "lowerarm01.R", "wrist.R": "wrist.R",
    "hip.L": "upperleg01.L", "knee.L": "lowerleg01.L", "ankle.L": "foot.L",
    "hip.R": "upperleg01.R", "knee.R": "lowerleg01.R", "ankle.R": "foot.R",
}
# Bone-name prefixes -> body part (a vertex takes the part of its heaviest skinning bone).
# Chosen: the clavicle and shoulder01 bones (the shoulder cap) count as torso, so that a sleeve
# starts at the upper-arm joint.
PART_PREFIXES = (
    ("upperarm", "arm"), ("lowerarm", "arm"), ("wrist", "hand"), ("finger", "hand"), ("metacarpal", "hand"),
    ("upperleg", "leg"), ("lowerleg", "leg"), ("foot", "foot"), ("toe", "foot"),
    ("neck", "neck"), ("head", "head"), ("eye", "head"),
)


def makehuman_to_anny(points: np.ndarray) -> np.ndarray:
    """MakeHuman asset coordinates (decimetres, y up, facing +z), e.g. the garment proxies of
    MakeHuman/anny, into anny's frame (metres, z up, facing -y): 0.1 * Rx(90 degrees), the
    transform anny applies to its own MakeHuman assets."""
    points = np.asarray(points, dtype=np.float64)
    return 0.1 * np.stack([points[:, 0], -points[:, 2], points[:, 1]], axis=1)


def bone_part(label: str) -> str:
    """The body part of an anny bone label ('upperarm01.L' -> 'arm.L', 'spine03' -> 'torso')."""
    name, _, side = label.partition(".")
    for prefix, part in PART_PREFIXES:
        if name.startswith(prefix):
            return f"{part}.{side}" if side and part not in ("head", "neck") else part
    return "torso"


class AnnyBodyModel:
    """Builds anny once and turns (phenotype, pose) into `Body`s; float64 on the CPU."""

    def __init__(self) -> None:
        import anny

        logger.info("building the anny body model (first use builds its cache: minutes)")
        self.model = anny.Anny(skinning_method="lbs").to(dtype=torch.float64)
        self.model.eval()
        self.phenotype_labels = list(self.model.phenotype_labels)
        self.bone_labels = list(self.model.bone_labels)
        self.faces = self.model.get_triangular_faces().cpu().numpy().astype(np.int64)
        self.parts = self._vertex_parts()

    def _vertex_parts(self) -> np.ndarray:
        weights = self.model.vertex_bone_weights.cpu().numpy()
        bones = self.model.vertex_bone_indices.cpu().numpy()
        heaviest = bones[np.arange(len(bones)), weights.argmax(axis=1)]
        part_of_bone = np.array([PARTS.index(bone_part(label)) for label in self.bone_labels], dtype=np.int8)
        return part_of_bone[heaviest]

    def _phenotype(self, phenotype: Mapping[str, float] | None) -> dict[str, float]:
        phenotype = dict(phenotype or {})
        unknown = sorted(set(phenotype) - set(self.phenotype_labels))
        if unknown:
            raise ValueError(f"unknown anny phenotype(s) {unknown}; known: {self.phenotype_labels}")
        for name, value in phenotype.items():
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"anny phenotype {name!r} must lie in [0, 1], got {value}")
        return {name: float(phenotype.get(name, 0.5)) for name in self.phenotype_labels}

    def _pose(self, pose: Mapping[str, object], rest: dict[str, torch.Tensor]) -> torch.Tensor:
        """anny "local-bone" pose parameters [1, J, 4, 4]: those that reproduce the rest pose
        exactly, each named bone's then turned by its axis-angle in the bone's own rest frame."""
        import roma

        unknown = sorted(set(pose) - set(self.bone_labels))
        if unknown:
            raise ValueError(f"unknown anny bone(s) {unknown[:5]} in the pose; e.g. {self.bone_labels[:5]}")
        rest_poses = rest["rest_bone_poses"]
        parameters = self.model.get_pose_parameterization({"rest_bone_poses": rest_poses, "bone_poses": rest_poses},
                                                          "local-bone").clone()
        for bone, rotvec in pose.items():
            rotvec = torch.as_tensor(np.asarray(rotvec, dtype=np.float64).reshape(1, 3))
            turn = torch.eye(4, dtype=torch.float64)
            turn[:3, :3] = roma.rotvec_to_rotmat(rotvec)[0]
            index = self.bone_labels.index(bone)
            parameters[0, index] = parameters[0, index] @ turn
        return parameters

    @torch.no_grad()
    def body(self, phenotype: Mapping[str, float] | None = None,
             pose: Mapping[str, object] | None = None) -> Body:
        """The body of `phenotype` (missing values 0.5) in `pose` (axis-angle per bone; None: rest)."""
        values = self._phenotype(phenotype)
        rest = self.model(phenotype_kwargs=values)
        if pose:
            parameters = self._pose(pose, rest)
            posed = self.model(pose_parameters=parameters, phenotype_kwargs=values, pose_parameterization="local-bone")
            vertices = posed["vertices"][0]
            # Joint positions: each rest bone head moved by its bone's rest -> posed transform.
            moved = posed["bone_poses"][0] @ torch.linalg.inv(rest["rest_bone_poses"][0])
            heads = (moved[:, :3, :3] @ rest["rest_bone_heads"][0][:, :, None])[:, :, 0] + moved[:, :3, 3]
        else:  # the rest pose is anny's template placement itself, with no skinning round-off
            vertices, heads = rest["rest_vertices"][0], rest["rest_bone_heads"][0]
        vertices, heads = vertices.cpu().numpy(), heads.cpu().numpy()
        joints = {name: heads[self.bone_labels.index(bone)] for name, bone in JOINT_BONES.items()}
        tag = ",".join(f"{k}={v:g}" for k, v in values.items())
        return Body(vertices, self.faces, self.parts, joints, source=f"anny({tag})",
                    meta={f"phenotype.{k}": v for k, v in values.items()})


_MODEL: AnnyBodyModel | None = None
# The average body stored with the package (CC0): what average_body() builds, without anny's build.
STORED_AVERAGE_BODY = Path(__file__).resolve().parents[1] / "data" / "bodies" / "anny_average_body.npz"


def average_body() -> Body:
    """anny's average body (every phenotype 0.5) in its rest pose; the model is built once per process."""
    global _MODEL
    if _MODEL is None:
        _MODEL = AnnyBodyModel()
    return _MODEL.body()


def load_body(source: str | None) -> Body:
    """A body by name: None builds anny's average body, "stored" reads the copy stored with the
    package (the same body, no anny build), anything else is a Body .npz path."""
    if source is None:
        return average_body()
    return Body.load(STORED_AVERAGE_BODY if source == "stored" else source)
