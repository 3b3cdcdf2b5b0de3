"""The batched anny rig (shape beta, pose theta, skinning) and the joint-limit pose sampler.

Builds anny once for the module (seconds from its cache)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrzoo.bodies.poses import LIMITS, POSED_BONES, PoseSampler, joint_limits, matrix_to_rotvec, sample_phenotypes


@pytest.fixture(scope="module")
def rig():
    from inrzoo.bodies.rig import BodyRig

    torch.set_num_threads(1)
    return BodyRig()


@pytest.fixture(scope="module")
def anny_bodies(rig):
    from inrzoo.bodies.anny_model import AnnyBodyModel

    return AnnyBodyModel()


def test_rest_pose_of_any_shape_is_anny_rest_body(rig):
    beta = torch.from_numpy(sample_phenotypes(np.random.default_rng(0), 3, rig.phenotype_labels))
    out = rig(beta, torch.zeros(3, len(POSED_BONES), 3))
    assert torch.allclose(out.vertices, out.rest_vertices, atol=1e-5)
    assert torch.allclose(out.rest_vertices, rig.rest_vertices(beta))
    average = rig(rig.average_beta(1), torch.zeros(1, len(POSED_BONES), 3))
    assert torch.allclose(average.rest_vertices[0], rig.canonical_vertices)


def test_posed_batch_matches_anny_body_model_one_by_one(rig, anny_bodies):
    beta, theta = rig.sample(np.random.default_rng(1), 2)
    out = rig(beta, theta)
    for i in range(2):
        body = anny_bodies.body(phenotype=dict(zip(rig.phenotype_labels, beta[i].tolist())),
                                pose={b: theta[i, k].numpy() for k, b in enumerate(POSED_BONES)})
        assert np.abs(body.vertices - out.vertices[i].numpy()).max() < 1e-4


def test_bad_shapes_name_the_input(rig):
    with pytest.raises(ValueError, match="beta"):
        rig(torch.zeros(1, 3), torch.zeros(1, len(POSED_BONES), 3))
    with pytest.raises(ValueError, match="theta"):
        rig(rig.average_beta(1), torch.zeros(1, 2, 3))


@pytest.mark.parametrize("bone, component, joint, axis, sign", [
    ("spine03", 0, "head", 1, -1),  # trunk flexion: the head goes forward (-y)
    ("upperarm01.L", 0, "elbow.L", 2, +1), ("upperarm01.R", 0, "elbow.R", 2, +1),  # abduction raises the elbow
    ("upperarm01.L", 1, "elbow.L", 1, -1), ("upperarm01.R", 1, "elbow.R", 1, -1),  # flexion: forward
    ("upperleg01.L", 0, "knee.L", 1, -1), ("upperleg01.R", 0, "knee.R", 1, -1),  # hip flexion: knee forward
    ("upperleg01.L", 1, "knee.L", 0, +1), ("upperleg01.R", 1, "knee.R", 0, -1),  # abduction: outwards
    ("lowerleg01.L", 0, "ankle.L", 1, +1), ("lowerleg01.R", 0, "ankle.R", 1, +1),  # knee flexion: ankle back
])
def test_joint_components_move_limbs_the_anatomical_way(rig, anny_bodies, bone, component, joint, axis, sign):
    sampler = rig.pose_sampler()
    angles = np.zeros(len(sampler.limits[bone]))
    angles[component] = 30.0
    rest = anny_bodies.body().joints[joint]
    moved = anny_bodies.body(pose={bone: matrix_to_rotvec(sampler.rotation(bone, angles))}).joints[joint]
    assert sign * (moved[axis] - rest[axis]) > 0.02


def test_elbow_flexion_brings_the_wrist_to_the_shoulder(rig, anny_bodies):
    sampler = rig.pose_sampler()
    for side in "LR":
        bone = f"lowerarm01.{side}"
        rest = anny_bodies.body().joints
        bent = anny_bodies.body(pose={bone: matrix_to_rotvec(sampler.rotation(bone, np.array([60.0])))}).joints
        reach = lambda j: np.linalg.norm(j[f"wrist.{side}"] - j[f"shoulder.{side}"])  # noqa: E731
        assert reach(bent) < reach(rest) - 0.05


def test_sampled_poses_stay_within_limits_and_are_reproducible():
    rest = {b: np.eye(3) for b in POSED_BONES}
    sampler = PoseSampler(rest)
    rng = np.random.default_rng(5)
    for _ in range(20):
        angles = sampler.angles(rng)
        for bone, values in angles.items():
            limits = joint_limits(bone)
            assert all(c.low <= a <= c.high for c, a in zip(limits, values))
    a = sampler.sample(np.random.default_rng(2), 3)
    b = sampler.sample(np.random.default_rng(2), 3)
    assert a.shape == (3, len(POSED_BONES), 3) and np.array_equal(a, b)
    # The right side mirrors the left: same ranges, world axes reflected.
    assert len(joint_limits("upperarm01.R")) == len(LIMITS["upperarm01.L"])
    assert joint_limits("upperarm01.R")[0].axis == (0, 1, 0)
    with pytest.raises(KeyError, match="no joint limits"):
        joint_limits("finger1-1.L")


def test_phenotypes_are_adult_ranges():
    labels = ["gender", "age", "muscle", "weight", "height", "proportions"]
    beta = sample_phenotypes(np.random.default_rng(0), 200, labels)
    assert beta.shape == (200, 6) and beta.min() >= 0 and beta.max() <= 1
    assert beta[:, 1].min() >= 0.4  # adults
