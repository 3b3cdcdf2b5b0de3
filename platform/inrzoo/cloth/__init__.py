"""Quasi-static cloth physics on triangle meshes, in SI units (metres, kilograms, joules).

The energies SNUG (Santesteban et al., CVPR 2022; its losses follow ArcSim) trains garments with,
and DrapeNet (De Luigi's thesis, ch. 2) reuses for self-supervised draping:

    strain     StVK membrane energy of each triangle's Green strain       `strain_energy`
    bending    squared dihedral angles of adjacent triangles              `bending_energy`
    gravity    potential energy of the vertex masses                      `gravity_energy`
    collision  cubic penalty of points closer than a margin to a surface  `collision_energy`

    from inrzoo.cloth import ClothMesh, Material, strain_energy
    cloth = ClothMesh(rest_vertices, faces, Material())   # the rest state: areas, masses, frames
    energy = strain_energy(cloth, deformed_vertices)       # joules, [B] for [B, V, 3] vertices
"""

from inrzoo.cloth.contact import nearest_indices, signed_distances, vertex_normals
from inrzoo.cloth.energies import bending_energy, collision_energy, gravity_energy, strain_energy
from inrzoo.cloth.material import Material
from inrzoo.cloth.mesh import ClothMesh

__all__ = ["ClothMesh", "Material", "bending_energy", "collision_energy", "gravity_energy", "nearest_indices",
           "signed_distances", "strain_energy", "vertex_normals"]
