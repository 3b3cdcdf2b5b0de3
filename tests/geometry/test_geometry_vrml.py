"""VRML 2.0 reader: real KiCad parts against the PLYs converted from them, the scene-graph rules
(Transform, DEF/USE, Switch, ccw, polygons) on small scenes with known answers, and bad input."""

import re
from pathlib import Path

import numpy as np
import pytest

import inrzoo.geometry as g
from inrzoo.geometry.vrml import transform_matrix, triangulate

DATA = Path(__file__).resolve().parents[1] / "data"
KICAD = DATA / "kicad"
INCH_TENTH_MM = 2.54  # KiCad's VRML unit is 0.1 inch; the shared PLYs are in mm
TRIANGLE = "Shape { geometry IndexedFaceSet { coord Coordinate { point [1 0 0, 0 1 0, 0 0 1] } coordIndex [0 1 2 -1] } }"


def _triangles(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Triangles as sorted rows of 9 coordinates (independent of vertex numbering and order)."""
    corners = np.round(vertices[faces], 4).reshape(len(faces), 9)
    return corners[np.lexsort(corners.T[::-1])]


def _vrml(tmp_path: Path, body: str, name: str = "scene.wrl") -> g.Mesh:
    path = tmp_path / name
    path.write_text("#VRML V2.0 utf8\n# a comment { [ \n" + body)
    return g.load(str(path))


@pytest.mark.parametrize("wrl,ply", [
    ("Relay_THT.3dshapes/Relay_SPDT_Omron_G6E.wrl", "Relay_SPDT_Omron_G6E.ply"),
    ("Relay_THT.3dshapes/Relay_DPDT_Omron_G5V-2.wrl", "Relay_DPDT_Omron_G5V-2.ply"),
    ("LED_THT.3dshapes/LED_Rectangular_W3.0mm_H2.0mm.wrl", "LED_Rectangular_W3.0mm_H2.0mm.ply"),
    ("LED_THT.3dshapes/LED_Rectangular_W3.9mm_H1.8mm.wrl", "LED_Rectangular_W3.9mm_H1.8mm.ply"),
])
def test_kicad_parts_match_the_plys_converted_from_them(wrl, ply):
    mesh = g.load(str(KICAD / wrl))
    reference = g.load(str(DATA / "collections" / ply))
    assert mesh.kind == "mesh" and len(mesh.faces) == len(reference.faces)
    np.testing.assert_allclose(_triangles(mesh.vertices * INCH_TENTH_MM, mesh.faces),
                               _triangles(reference.vertices, reference.faces), atol=2e-4)


def test_real_part_with_transform_group_and_navigation_info():
    path = KICAD / "Heatsink.3dshapes/Heatsink_Stonecold_HS-132_32x14mm_2xFixation1.5mm.wrl"
    text = path.read_text()
    mesh = g.load(str(path))
    polygons = [p.split() for p in re.findall(r"coordIndex\s*\[([^\]]*)\]", text)]
    expected = sum(len(chunk.split()) - 2 for p in polygons for chunk in " ".join(p).replace(",", " ").split("-1")
                   if len(chunk.split()) >= 3)
    assert len(mesh.faces) == expected > 1000
    assert np.isfinite(mesh.vertices).all()


def test_transform_composes_translation_rotation_scale_about_the_center(tmp_path):
    # Quarter turn about z around the point (1, 0, 0), then a shift: (0, 1, 0) -> (0, -1, 0) -> (5, -1, 0);
    # (1, 0, 0) is the centre and only moves with the shift.
    mesh = _vrml(tmp_path, f"Transform {{ translation 5 0 0 rotation 0 0 1 1.5707963267948966 center 1 0 0 "
                           f"children [ {TRIANGLE} ] }}")
    np.testing.assert_allclose(mesh.vertices, [[6, 0, 0], [5, -1, 0], [6, -1, 1]], atol=1e-12)
    nested = _vrml(tmp_path, f"Transform {{ scale 2 3 4 children Transform {{ translation 1 1 1 children {TRIANGLE} }} }}")
    np.testing.assert_allclose(nested.vertices, [[4, 3, 4], [2, 6, 4], [2, 3, 8]])


def test_scale_orientation_scales_along_the_rotated_axes():
    # Scale x2 along the axes turned a quarter about z: the world y axis is stretched.
    matrix = transform_matrix({"scale": [2, 1, 1], "scaleOrientation": [0, 0, 1, np.pi / 2]})
    np.testing.assert_allclose(matrix[:3, :3], np.diag([1, 2, 1]), atol=1e-12)


def test_def_use_switch_and_ccw(tmp_path):
    mesh = _vrml(tmp_path, f"""
        DEF Tri Group {{ children [ {TRIANGLE} ] }}
        Transform {{ translation 0 0 10 children [ USE Tri ] }},
        Switch {{ whichChoice 1 choice [ Transform {{ translation 0 0 20 children USE Tri }}
                                         Transform {{ translation 0 0 30 children USE Tri }} ] }}
        Switch {{ choice [ USE Tri ] }}
        Shape {{ geometry IndexedFaceSet {{ ccw FALSE coord Coordinate {{ point [0 0 40, 1 0 40, 0 1 40] }}
                                            coordIndex [0, 1, 2] }} }}
        ROUTE a.b TO c.d
    """)
    assert sorted(np.unique(mesh.vertices[:, 2]).tolist()) == [0, 1, 10, 11, 30, 31, 40]
    flipped = mesh.vertices[mesh.faces[-1]]
    assert np.cross(flipped[1] - flipped[0], flipped[2] - flipped[0])[2] < 0  # ccw FALSE: order reversed


def test_polygons_are_fan_triangulated():
    faces = triangulate(np.array([0, 1, 2, 3, -1, 4, 5, 6, 7, 8, -1, 0, 1, -1, 2, 3, 4]), 9)
    assert faces.tolist() == [[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7], [4, 7, 8], [2, 3, 4]]


@pytest.mark.parametrize("body,reason", [
    ("USE Missing", "USE 'Missing' before its DEF"),
    ("PROTO Box [] { Group {} }", "PROTO is not supported"),
    ("Inline { url \"part.wrl\" }", "Inline is not supported"),
    ("Shape { geometry IndexedFaceSet { coord Coordinate { point [0 0 0, 1 0 0, 0 1 0] } coordIndex [0 1 5 -1] } }",
     "coordIndex refers to points outside the 3 coordinates"),
    ("Shape { geometry IndexedFaceSet { coord Coordinate { point [0 0 0, 1 0 0] coordIndex [0 1 2] } }",
     "not a multiple of 3|unexpected end"),
    ("Shape { geometry IndexedLineSet { coord Coordinate { point [0 0 0, 1 0 0] } coordIndex [0 1 -1] } }",
     "no IndexedFaceSet faces"),
    ("Group { children [ Shape { geometry IndexedFaceSet { coord Coordinate { point [0 0 0", "unterminated|end of file"),
])
def test_bad_scenes_name_the_file_and_the_reason(tmp_path, body, reason):
    with pytest.raises(g.GeometryError, match=reason) as error:
        _vrml(tmp_path, body, "bad.wrl")
    assert str(tmp_path / "bad.wrl") in str(error.value)


def test_not_vrml2(tmp_path):
    path = tmp_path / "old.wrl"
    path.write_text("#VRML V1.0 ascii\nSeparator { }")
    with pytest.raises(g.GeometryError, match="not a VRML 2.0 file"):
        g.load(str(path))
