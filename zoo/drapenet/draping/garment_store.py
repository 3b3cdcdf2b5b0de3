"""The garments the draping model trains on, made once into one folder (the data source's `uri`):

    garments/           the garment collection (`inrzoo.garments.dataset.generate_garments`, part 1's
                        generator), meshed at the physics spacing
    drape.zarr          per garment: canonical vertices (metres, anny's frame) and faces (ragged,
                        with offsets), faces oriented away from the body, the latent code from
                        part 1's encoder, the pinned (trunk) vertices; ids, types, categories,
                        splits, the config that made it and the garments left out (`failed`:
                        id -> why the cloth model cannot take it) in the attributes
    body_fields.safetensors   W(x) and dx(x, beta) learned from anny (body_fields.py)

Codes: part 1's DGCNN encoder over surface points of the garment in the garment frame, loaded
from a part-1 model file (its `encoder.*` tensors) when `encoder` names one; otherwise (stated in
the store's attributes) an untrained encoder with a fixed seed, whose codes still tell garments
apart but carry no learned meaning.
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass, field

import numpy as np
import torch
import zarr

from inrzoo import config as config_io
from inrzoo.zoo.drapenet.draping.body_fields import BodyFieldsConfig

logger = logging.getLogger(__name__)

SMOKE_COUNTS = {"tshirt": 3, "longsleeve": 2, "tank": 2, "dress": 1, "skirt": 2, "trousers": 3, "shorts": 3}


@dataclass
class DrapeMakeSettings:
    counts: dict[str, int] = field(default_factory=lambda: dict(SMOKE_COUNTS))  # garments per type
    seed: int = 0
    test_fraction: float = 0.25
    spacing: float = 0.025  # marching-cubes step of the physics meshes (metres; part 1 uses 0.015)
    encoder: str = ""  # a part-1 model file (safetensors with encoder.* tensors); "" = untrained encoder
    encoder_points: int = 4096
    latent_dim: int = 32
    fields: BodyFieldsConfig = field(default_factory=BodyFieldsConfig)
    fields_file: str = ""  # reuse body fields saved earlier (same anny) instead of training them here


def encode_garments(meshes: list, settings: DrapeMakeSettings) -> tuple[np.ndarray, str]:
    """Latent codes [G, latent] of meshes in the garment frame, and where the encoder came from."""
    from inrzoo.sampling import SurfaceSampler
    from inrzoo.zoo.drapenet.config import EncoderConfig
    from inrzoo.zoo.drapenet.networks import DgcnnEncoder

    torch.manual_seed(settings.seed)
    encoder = DgcnnEncoder(settings.latent_dim, EncoderConfig())
    source = "untrained DGCNN encoder (seed %d): part 1's trained encoder was not given" % settings.seed
    if settings.encoder:
        from safetensors.torch import load

        import fsspec

        with fsspec.open(settings.encoder, "rb") as handle:
            tensors = load(handle.read())
        own = {k[len("encoder."):]: v for k, v in tensors.items() if k.startswith("encoder.")}
        if not own:
            raise ValueError(f"{settings.encoder}: no encoder.* tensors (not a part-1 garment model file)")
        encoder.load_state_dict(own)
        source = settings.encoder
    encoder.eval()
    codes = []
    with torch.no_grad():
        for i, mesh in enumerate(meshes):
            points = SurfaceSampler(n=settings.encoder_points).sample(mesh, settings.seed * 7919 + i).points
            codes.append(encoder(torch.as_tensor(points, dtype=torch.float32)[None])[0].numpy())
    return np.stack(codes), source


def orient_away_from(vertices: np.ndarray, faces: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Faces flipped, if need be, so that the garment's normals point away from the body."""
    from scipy.spatial import cKDTree

    corners = vertices[faces]
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    centres = corners.mean(axis=1)
    _, nearest = cKDTree(body).query(centres)
    outward = ((centres - body[nearest]) * normals).sum(axis=1)
    return faces if outward.sum() >= 0 else faces[:, ::-1].copy()


def cloth_problem(vertices: np.ndarray, faces: np.ndarray) -> str:
    """Why the cloth model cannot take this garment as stored (float32 vertices), or ""."""
    from inrzoo.cloth import ClothMesh

    try:
        ClothMesh(vertices.astype(np.float32), faces)
    except ValueError as error:
        return str(error)
    return ""


def canonical_garments(refs: list, meshes: list, frame, body: np.ndarray,
                       torso: np.ndarray) -> tuple[list[dict], list[int], dict[str, str]]:
    """Each garment in anny's metres with faces away from the body and its pinned (trunk) vertices;
    the indices kept; {id: reason} of those the cloth model cannot take, left out (with a warning)
    rather than failing the whole store."""
    from scipy.spatial import cKDTree

    tree = cKDTree(body)
    garments, kept, failed = [], [], {}
    for index, (ref, mesh) in enumerate(zip(refs, meshes)):
        vertices = frame.invert(mesh.vertices)  # garment frame -> anny's metres
        faces = orient_away_from(vertices, mesh.faces, body)
        reason = cloth_problem(vertices, faces)
        if reason:
            failed[ref.id] = reason
            logger.warning("drape data: garment %s left out: %s", ref.id, reason)
            continue
        _, nearest = tree.query(vertices)
        garments.append({"vertices": vertices, "faces": faces, "pinned": torso[nearest]})
        kept.append(index)
    return garments, kept, failed


def write_store(path: str, garments: list[dict], codes: np.ndarray, record: dict) -> None:
    """garments: dicts with vertices [N, 3], faces [F, 3], pinned [N] (canonical, metres)."""
    root = zarr.open_group(path, mode="w", zarr_format=3)
    vertex_offsets = np.cumsum([0] + [len(g["vertices"]) for g in garments])
    face_offsets = np.cumsum([0] + [len(g["faces"]) for g in garments])
    arrays = {"vertices": np.concatenate([g["vertices"] for g in garments]).astype(np.float32),
              "faces": np.concatenate([g["faces"] for g in garments]).astype(np.int32),
              "pinned": np.concatenate([g["pinned"] for g in garments]).astype(bool),
              "vertex_offsets": vertex_offsets.astype(np.int64), "face_offsets": face_offsets.astype(np.int64),
              "codes": codes.astype(np.float32)}
    for name, value in arrays.items():
        root.create_array(name, data=value)
    root.attrs.update({**record, "complete": True})


def make_store(uri: str, settings: DrapeMakeSettings) -> None:
    """Generate the garments, encode them, mesh them into the store and learn the body fields."""
    from inrzoo import collections, geometry
    from inrzoo.bodies import PARTS
    from inrzoo.bodies.rig import BodyRig
    from inrzoo.garments import GarmentSettings
    from inrzoo.garments.dataset import GarmentDataConfig, generate_garments
    from inrzoo.zoo.drapenet.draping.body_fields import fit_body_fields, load_body_fields, save_body_fields

    collection = posixpath.join(uri, "garments")
    summary = generate_garments(GarmentDataConfig(output=collection, counts=dict(settings.counts), seed=settings.seed,
                                                  test_fraction=settings.test_fraction,
                                                  settings=GarmentSettings(spacing=settings.spacing)))
    frame = geometry.Similarity(**summary["frame"]) if isinstance(summary["frame"], dict) else summary["frame"]
    refs = collections.get("folder", collection, index="index.csv").list()
    meshes = [geometry.load(ref.uri, kind="mesh") for ref in refs]
    codes, encoder_source = encode_garments(meshes, settings)
    logger.info("drape data: %d garments encoded (%s)", len(refs), encoder_source)
    rig = BodyRig()
    body = rig.canonical_vertices.double().numpy()
    torso = rig.parts == PARTS.index("torso")
    garments, kept, failed = canonical_garments(refs, meshes, frame, body, torso)
    if not garments:
        raise ValueError(f"{uri}: no garment the cloth model can take ({len(failed)} left out: {failed})")
    refs, codes = [refs[i] for i in kept], codes[kept]
    record = {"config": config_io.to_dict(settings), "encoder": encoder_source, "failed": failed, "ids": [r.id for r in refs],
              "types": [r.label for r in refs], "categories": [r.meta.get("category") for r in refs],
              "splits": [r.split or "train" for r in refs], "phenotype_labels": rig.phenotype_labels,
              "posed_bones": list(rig.bones), "bones": len(rig.bone_labels),
              "rest_orientations": {b: m.tolist() for b, m in rig.rest_orientations.items()}}
    fields_path = posixpath.join(uri, "body_fields.safetensors")
    if settings.fields_file:
        fields, _, meta = load_body_fields(settings.fields_file)
        save_body_fields(fields, config_io.from_dict(BodyFieldsConfig, meta["config"], source=settings.fields_file),
                         fields_path, meta.get("metrics", {}))
    else:
        fields, metrics = fit_body_fields(rig, settings.fields)
        save_body_fields(fields, settings.fields, fields_path, metrics)
    write_store(posixpath.join(uri, "drape.zarr"), garments, codes, record)
    logger.info("drape data written to %s", uri)
