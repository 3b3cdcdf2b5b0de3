"""Body arrays, the garment frame and the anny wrapper (the last test builds anny: slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inrzoo.bodies import JOINTS, PARTS, STORED_AVERAGE_BODY, Body, load_body
from inrzoo.geometry import GeometryError

@pytest.fixture(scope="module")
def body() -> Body:
    return load_body("stored")


def test_stored_average_body_has_parts_and_joints(body):
    assert body.source == str(STORED_AVERAGE_BODY)
    assert body.vertices.shape == (13718, 3) and body.faces.shape == (27420, 3)
    counts = {name: int((body.parts == i).sum()) for i, name in enumerate(PARTS)}
    assert all(counts[p] > 100 for p in ("torso", "arm.L", "arm.R", "leg.L", "leg.R"))
    assert counts["arm.L"] == counts["arm.R"] and counts["leg.L"] == counts["leg.R"]  # anny is symmetric
    assert set(JOINTS) <= set(body.joints)
    # Left is +x, the body faces -y, z is up.
    assert body.joints["shoulder.L"][0] > 0 > body.joints["shoulder.R"][0]
    assert body.joints["head"][2] > body.joints["chest"][2] > body.joints["root"][2] > body.joints["knee.L"][2]
    assert np.mean(body.part_vertices("foot.L")[:, 1]) < body.joints["ankle.L"][1]


def test_waist_lies_between_hips_and_chest_at_the_slimmest_torso(body):
    waist = body.waist_height()
    assert body.joints["root"][2] < waist < body.joints["chest"][2]


def test_garment_frame_puts_waist_at_zero_and_the_body_in_the_cube(body):
    frame = body.garment_frame()
    inside = frame.apply(body.vertices)
    assert np.abs(inside).max() == pytest.approx(0.95)
    assert frame.apply(np.array([[0.0, 0.0, body.waist_height()]]))[0, 2] == pytest.approx(0.0)
    assert frame.apply(body.joints["head"][None])[0, 2] > 0 > frame.apply(body.joints["knee.L"][None])[0, 2]


def test_save_and_load_round_trip(body, tmp_path):
    path = body.save(tmp_path / "b.npz")
    again = Body.load(path)
    np.testing.assert_allclose(again.vertices, body.vertices, atol=1e-6)
    np.testing.assert_array_equal(again.faces, body.faces)
    np.testing.assert_array_equal(again.parts, body.parts)
    assert again.meta == body.meta
    for name in JOINTS:
        np.testing.assert_allclose(again.joints[name], body.joints[name])


def test_bad_inputs_name_the_problem(body, tmp_path):
    joints = dict(body.joints)
    del joints["wrist.L"]
    with pytest.raises(GeometryError, match="wrist.L"):
        Body(body.vertices, body.faces, body.parts, joints)
    with pytest.raises(GeometryError, match="parts"):
        Body(body.vertices, body.faces, body.parts[:-1], body.joints)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(GeometryError, match="broken.npz"):
        Body.load(broken)
    with pytest.raises(ValueError, match="unknown body part"):
        body.part_vertices("tail")


@pytest.mark.slow
def test_anny_wrapper_gives_the_stored_body_and_poses_one_arm(body):
    pytest.importorskip("anny")
    from inrzoo.bodies import AnnyBodyModel

    model = AnnyBodyModel()  # a fresh machine builds anny's cache first (minutes)
    rest = model.body()
    np.testing.assert_allclose(rest.vertices, body.vertices, atol=1e-5)
    np.testing.assert_array_equal(rest.parts, body.parts)
    posed = model.body(pose={"upperarm01.L": [0.0, 0.6, 0.0]})
    moved = np.linalg.norm(posed.vertices - rest.vertices, axis=1)
    assert moved[rest.parts == PARTS.index("arm.L")].max() > 0.05
    assert moved[rest.parts == PARTS.index("arm.R")].max() < 1e-9
    assert np.linalg.norm(posed.joints["wrist.L"] - rest.joints["wrist.L"]) > 0.05
    assert model.body(phenotype={"height": 1.0}).vertices[:, 2].max() > rest.vertices[:, 2].max()
    with pytest.raises(ValueError, match="unknown anny bone"):
        model.body(pose={"tail": [0, 0, 1]})
    with pytest.raises(ValueError, match="must lie in"):
        model.body(phenotype={"weight": 1.5})


def test_makehuman_proxies_land_on_the_body_in_the_garment_frame(body):
    import trimesh

    from inrzoo.bodies import makehuman_to_anny

    skirt = trimesh.load(Path(__file__).resolve().parents[1] / "data" / "sampling" / "skirt.obj", process=False)
    inside = body.garment_frame().apply(makehuman_to_anny(skirt.vertices))
    # A skirt of the MakeHuman female body: below the waist, around the legs, inside the cube.
    assert inside[:, 2].max() < 0.05 and inside[:, 2].min() > -0.95
    assert abs(inside[:, 0].mean()) < 0.01 and np.abs(inside).max() < 1.0
    np.testing.assert_allclose(makehuman_to_anny(np.array([[1.0, 2.0, 3.0]])), [[0.1, -0.3, 0.2]])
