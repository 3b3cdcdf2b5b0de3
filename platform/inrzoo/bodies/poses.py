"""Plausible body poses for anny: the posed bones, their joint limits, and a sampler.

anny ships no joint limits, and of the poses in its data only a T-pose is forward kinematics (its
walk cycle drives IK targets), so the sampler draws each joint's rotation within anatomical ranges
(chosen, in degrees, moderate enough that arms and legs do not pass through the trunk):

    trunk   spine03 (lower back) and spine01 (chest): flexion, lateral bend, twist
    neck    neck01: flexion, twist
    arms    upperarm01: abduction and flexion from anny's rest A-pose, twist about the arm;
            lowerarm01: elbow flexion
    legs    upperleg01: flexion (extension negative), abduction, twist; lowerleg01: knee flexion

A joint's components are rotations about axes given in the rest pose's world frame (x: the body's
left, y: its back, z: up) or in the bone's own rest frame ("bone": Blender's, y along the bone),
applied in the listed order; right-side axes mirror the left's. The pose theta is the stacked
axis-angle rotation of every posed bone in its own rest frame [P, 3], anny's "local-bone"
parameterization (what `inrzoo.bodies.rig.BodyRig` consumes and the draping network reads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The bones a pose turns (an SMPL-like set), in the order of theta's rows.
POSED_BONES = (
    "spine03", "spine01", "neck01",
    "upperarm01.L", "lowerarm01.L", "upperarm01.R", "lowerarm01.R",
    "upperleg01.L", "lowerleg01.L", "upperleg01.R", "lowerleg01.R",
)


@dataclass(frozen=True)
class Component:
    """One rotation of a joint: about `axis` in `frame` ("world" at rest, or "bone"), by an angle
    drawn uniformly in [low, high] degrees."""

    axis: tuple[float, float, float]
    low: float
    high: float
    frame: str = "world"


# Left side and midline; chosen ranges. Signs: positive flexion bends the trunk forward (-y), a
# positive elbow/knee flexion closes the joint (the tests check each direction on the body).
LIMITS: dict[str, tuple[Component, ...]] = {
    "spine03": (Component((1, 0, 0), -10, 20), Component((0, 1, 0), -10, 10), Component((0, 0, 1), -15, 15)),
    "spine01": (Component((1, 0, 0), -10, 15), Component((0, 1, 0), -8, 8), Component((0, 0, 1), -15, 15)),
    "neck01": (Component((1, 0, 0), -20, 30), Component((0, 0, 1), -30, 30)),
    # abduction about -y raises the left arm sideways; flexion about -x swings it forward.
    "upperarm01.L": (Component((0, -1, 0), -30, 60), Component((-1, 0, 0), -30, 70),
                     Component((0, 1, 0), -30, 30, "bone")),
    "lowerarm01.L": (Component((1, 0, 0), 0, 100, "bone"),),
    # flexion about -x swings the leg forward; abduction about -y moves the left leg outwards.
    "upperleg01.L": (Component((-1, 0, 0), -15, 60), Component((0, -1, 0), -5, 30), Component((0, 1, 0), -15, 15, "bone")),
    "lowerleg01.L": (Component((1, 0, 0), 0, 90, "bone"),),
}


def mirrored(component: Component) -> Component:
    """The right side's component: rotation axes are axial vectors, so x -> -x maps (a, b, c) to
    (a, -b, -c) for world axes; bone frames of anny's rig are already mirror images."""
    if component.frame == "bone":
        return component
    a, b, c = component.axis
    return Component((a, -b, -c), component.low, component.high, component.frame)


def joint_limits(bone: str) -> tuple[Component, ...]:
    if bone in LIMITS:
        return LIMITS[bone]
    if bone.endswith(".R") and bone[:-2] + ".L" in LIMITS:
        return tuple(mirrored(c) for c in LIMITS[bone[:-2] + ".L"])
    raise KeyError(f"no joint limits for bone {bone!r}; posed bones: {POSED_BONES}")


def axis_angle_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def matrix_to_rotvec(matrix: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(matrix).as_rotvec()


class PoseSampler:
    """Draws poses theta [P, 3] (axis-angle per POSED_BONES row, each in its bone's rest frame).

    `rest_orientations` maps each posed bone to its rest world orientation [3, 3] (the columns are
    the bone's axes), which turns world-frame components into bone-frame rotations.
    """

    def __init__(self, rest_orientations: dict[str, np.ndarray], bones: tuple[str, ...] = POSED_BONES,
                 scale: float = 1.0) -> None:
        missing = [b for b in bones if b not in rest_orientations]
        if missing:
            raise ValueError(f"rest orientations missing for posed bone(s) {missing}")
        if not 0.0 <= scale <= 1.0:
            raise ValueError(f"pose scale must lie in [0, 1] (a fraction of every joint range), got {scale}")
        self.bones = bones
        self.rest = {b: np.asarray(rest_orientations[b], dtype=np.float64) for b in bones}
        self.limits = {b: joint_limits(b) for b in bones}
        self.scale = scale

    def rotation(self, bone: str, angles_deg: np.ndarray) -> np.ndarray:
        """The bone-frame rotation [3, 3] of `bone` for one angle per component (degrees)."""
        rest = self.rest[bone]
        total = np.eye(3)
        for component, angle in zip(self.limits[bone], angles_deg):
            axis = np.asarray(component.axis, dtype=np.float64)
            world_axis = rest @ axis if component.frame == "bone" else axis
            total = axis_angle_matrix(world_axis, np.deg2rad(angle)) @ total
        return rest.T @ total @ rest  # a world-frame turn at rest, seen in the bone's frame

    def angles(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Component angles (degrees) per bone, uniform in `scale` x each range."""
        return {b: np.array([rng.uniform(self.scale * c.low, self.scale * c.high) for c in self.limits[b]])
                for b in self.bones}

    def theta(self, angles: dict[str, np.ndarray]) -> np.ndarray:
        return np.stack([matrix_to_rotvec(self.rotation(b, angles[b])) for b in self.bones]).astype(np.float32)

    def sample(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """`count` poses theta [count, P, 3]."""
        return np.stack([self.theta(self.angles(rng)) for _ in range(count)]) if count else \
            np.zeros((0, len(self.bones), 3), np.float32)


# Phenotype ranges the sampler draws from (anny's parameters lie in [0, 1]; chosen: adults only,
# age 0.4 is about 18 years in MakeHuman's scale, and no extreme caricatures).
PHENOTYPE_RANGES = {"gender": (0.0, 1.0), "age": (0.4, 0.9), "muscle": (0.1, 0.9), "weight": (0.1, 0.9),
                    "height": (0.1, 0.9), "proportions": (0.2, 0.8)}


def sample_phenotypes(rng: np.random.Generator, count: int, labels: list[str] | tuple[str, ...]) -> np.ndarray:
    """Shape parameters beta [count, len(labels)] uniform in PHENOTYPE_RANGES (0.5 where unlisted)."""
    ranges = [PHENOTYPE_RANGES.get(label, (0.5, 0.5)) for label in labels]
    low, high = np.array(ranges, dtype=np.float64).T
    return (low + (high - low) * rng.random((count, len(labels)))).astype(np.float32)
