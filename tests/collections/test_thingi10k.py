"""Thingi10K layout: raw_meshes/<file_id>.<ext> and the metadata CSVs of the official release."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest
import trimesh

from inrzoo.collections import CollectionError, get

GEOMETRY_HEADER = ("file_id,num_vertices,num_faces,num_geometrical_degenerated_faces,num_combinatorial_degenerated_faces,"
                   "num_connected_components,num_boundary_edges,num_duplicated_faces,euler_characteristic,"
                   "num_self_intersections,num_coplanar_intersecting_faces,vertex_manifold,edge_manifold,oriented,"
                   "total_area,PWN,solid")


def geometry_row(file_id, faces, components, boundary, euler, intersections, manifold, pwn, solid):
    m = int(manifold)
    return f"{file_id},{faces // 2 + 2},{faces},0,0,{components},{boundary},0,{euler},{intersections},0,{m},{m},{m},1.5,{int(pwn)},{int(solid)}"


@pytest.fixture
def thingi(tmp_path: Path, place) -> Path:
    root = tmp_path / "Thingi10K"
    place(root / "raw_meshes" / "32770.stl", "Basics_LetterBlock.stl")
    place(root / "raw_meshes" / "34783.stl", "Old_example014.stl")
    place(root / "raw_meshes" / "37385.off", "Old_example003.stl")
    place(root / "raw_meshes" / "100028.stl", "nut_M8.stl")
    place(root / "raw_meshes" / "49911.stl", "Old_example011.stl")  # one of the package's corrupt ids
    meta = root / "metadata"
    meta.mkdir()
    (meta / "input_summary.csv").write_text(
        "ID,Thing ID,License,Link,No duplicated faces,Closed,Edge manifold,No degenerate faces,Vertex manifold,Single Component,PWN\n"
        "32770,10367,Creative Commons - Attribution - Share Alike,https://x/Octocat-v1.stl,TRUE,TRUE,TRUE,TRUE,TRUE,TRUE,TRUE\n"
        "34783,10955,Creative Commons - Attribution - Share Alike,https://x/gear.stl,TRUE,TRUE,TRUE,TRUE,TRUE,TRUE,TRUE\n"
        "37385,11705,Public Domain,https://x/squirrel.off,TRUE,TRUE,FALSE,TRUE,FALSE,TRUE,TRUE\n"
        "100028,11691,GNU - GPL,https://x/truck.stl,TRUE,FALSE,TRUE,TRUE,TRUE,FALSE,FALSE\n"
    )
    (meta / "geometry_data.csv").write_text("\n".join([
        GEOMETRY_HEADER,
        geometry_row(32770, 64, 1, 0, 2, 0, True, True, True),
        geometry_row(34783, 84, 1, 0, -2, 0, True, True, True),  # genus 2
        geometry_row(37385, 192, 2, 0, 4, 12, False, True, False),
        geometry_row(100028, 20, 3, 6, 6, 0, True, False, False),
    ]) + "\n")
    (meta / "contextual_data.csv").write_text(
        "Thing ID,Date,Category,Sub-category,Name,Author,License\n"
        "10367,2011-07-26T09:23:59,None,None,Octocat ,BrianEnigma,Creative Commons - Attribution - Share Alike\n"
        "10955,2011-08-22T17:52:48,gadgets,camera,Geordi La Forge&#039;s gear ,GeneralRulofDumb,Creative Commons - Attribution - Share Alike\n"
        "11705,2011-09-19T13:56:55,models,animals,Squirrel ,MBCook,Public Domain\n"
        "11691,2011-09-19T10:52:36,toys-and-games,,Tiny Toy Dump Truck ,cymon,GNU - GPL\n"
    )
    (meta / "tag_data.csv").write_text("Thing ID,Tag\n10367,octocat\n10367,github\n11705,squirrel\n")
    return root


def ids(refs):
    return [ref.id.split("/")[1] for ref in refs]


def test_lists_every_mesh_with_the_package_fields(thingi: Path):
    refs = get("thingi10k", str(thingi)).list()
    assert ids(refs) == ["32770", "34783", "37385", "100028"]  # numeric order; corrupt 49911 left out
    first = refs[0]
    assert first.uri == str(thingi / "raw_meshes" / "32770.stl") and first.kind == "mesh" and first.split is None
    assert first.meta["thing_id"] == 10367 and first.meta["name"] == "Octocat" and first.meta["tags"] == ["octocat", "github"]
    assert first.meta["license"] == "Creative Commons - Attribution - Share Alike" and first.meta["format"] == "stl"
    assert first.meta["closed"] is True and first.meta["num_facets"] == 64 and first.meta["PWN"] is True
    assert first.label is None  # category "None" in the CSV means no category
    squirrel = refs[2]
    assert squirrel.label == "models" and squirrel.meta["self_intersecting"] is True and squirrel.meta["format"] == "off"
    assert refs[1].meta["name"] == "Geordi La Forge's gear"
    assert len(trimesh.load(first.uri, force="mesh").faces) == 64  # the URI opens as the real mesh


def test_filters_follow_the_thingi10k_package(thingi: Path):
    def listed(**filters):
        return ids(get("thingi10k", str(thingi), **filters).list())

    assert listed(closed=True) == ["32770", "34783", "37385"]
    assert listed(closed=True, max_facets=100) == ["32770", "34783"]
    assert listed(num_facets=(50, 100)) == ["32770", "34783"]
    assert listed(license="public") == ["37385"]  # case-insensitive regular expression
    assert listed(license=["gpl", "domain"]) == ["37385", "100028"]
    assert listed(author="cymon") == ["100028"]
    assert listed(tags="git") == ["32770"]
    assert listed(self_intersecting=False, manifold=True) == ["32770", "34783", "100028"]
    assert listed(genus=2) == ["34783"] and listed(genus=(0, None)) == ["32770", "34783"]
    assert listed(pwn=False) == ["100028"] and listed(solid=True, num_components=1) == ["32770", "34783"]
    assert listed(file_id=[37385, 32770]) == ["32770", "37385"] and listed(thing_id=10955) == ["34783"]
    assert listed(category="toys") == ["100028"] and listed(euler=(4, 6)) == ["37385", "100028"]
    assert listed(skip_corrupt=False)[-1] == "100028" and "49911" in listed(skip_corrupt=False)
    assert listed(label_field="author")[:1] == ["32770"]
    assert get("thingi10k", str(thingi), label_field="author").list()[0].label == "BrianEnigma"
    with pytest.raises(CollectionError, match="none of the 4 Thingi10K shapes passes the selection"):
        get("thingi10k", str(thingi), closed=True, max_facets=10).list()


def test_listing_is_deterministic_and_ids_unique(thingi: Path):
    first = get("thingi10k", str(thingi)).list()
    again = get("thingi10k", str(thingi)).list()
    assert first == again and len({r.id for r in first}) == len(first)


def test_without_metadata_lists_by_file_id_and_refuses_metadata_filters(thingi: Path):
    for csv in (thingi / "metadata").iterdir():
        csv.unlink()
    refs = get("thingi10k", str(thingi)).list()
    assert ids(refs) == ["32770", "34783", "37385", "100028"] and refs[0].meta["license"] is None
    assert ids(get("thingi10k", str(thingi / "raw_meshes"), file_id=34783).list()) == ["34783"]
    with pytest.raises(CollectionError, match="metadata"):
        get("thingi10k", str(thingi), closed=True).list()


def test_summary_flags_stand_in_for_geometry_data(thingi: Path):
    (thingi / "metadata" / "geometry_data.csv").unlink()
    assert ids(get("thingi10k", str(thingi), closed=True).list()) == ["32770", "34783", "37385"]
    assert ids(get("thingi10k", str(thingi), vertex_manifold=False).list()) == ["37385"]


def test_metadata_folder_elsewhere(thingi: Path, tmp_path: Path):
    moved = tmp_path / "elsewhere"
    (thingi / "metadata").rename(moved)
    assert ids(get("thingi10k", str(thingi), metadata=f"file://{moved}", pwn=False).list()) == ["100028"]


def test_malformed_csv_names_the_file(thingi: Path):
    geometry = thingi / "metadata" / "geometry_data.csv"
    geometry.write_text(GEOMETRY_HEADER.replace("num_faces,", "") + "\n")
    with pytest.raises(CollectionError, match=r"geometry_data\.csv.*missing column.*num_faces"):
        get("thingi10k", str(thingi)).list()
    geometry.write_text(GEOMETRY_HEADER + "\n" + geometry_row(32770, 64, 1, 0, 2, 0, True, True, True) + ",extra\n")
    with pytest.raises(CollectionError, match=r"geometry_data\.csv.*line 2"):
        get("thingi10k", str(thingi)).list()
    geometry.write_text(GEOMETRY_HEADER + "\n" + geometry_row("abc", 64, 1, 0, 2, 0, True, True, True) + "\n")
    with pytest.raises(CollectionError, match=r"geometry_data\.csv.*'file_id' is not a number"):
        get("thingi10k", str(thingi)).list()


def test_empty_and_missing_roots(tmp_path: Path):
    with pytest.raises(CollectionError, match="does not exist"):
        get("thingi10k", str(tmp_path / "nowhere")).list()
    (tmp_path / "raw_meshes").mkdir()
    (tmp_path / "raw_meshes" / "README.txt").write_text("not a mesh")
    with pytest.raises(CollectionError, match="no Thingi10K shapes.*raw_meshes"):
        get("thingi10k", str(tmp_path)).list()


def test_lists_a_memory_filesystem(thingi: Path, memory_copy):
    root = memory_copy(thingi)
    refs = get("thingi10k", root, closed=True).list()
    assert ids(refs) == ["32770", "34783", "37385"]
    assert refs[0].uri == f"{root}/raw_meshes/32770.stl" and root.startswith("memory:///")
    with fsspec.open(refs[0].uri, "rb") as handle:
        assert handle.read() == (thingi / "raw_meshes" / "32770.stl").read_bytes()
