"""Build one garment as an open triangle mesh around a body in its rest pose.

A garment is the zero set of an implicit function made from body-fitted tubes (`tubes.py`):
the trunk (torso and legs; one tube for tops, dresses and skirts), the arms (sleeves) and the
legs (trousers, shorts), widened by the garment's ease and flare, hanging, smoothed, and joined
by a smooth union at the armpits and the crotch. Marching cubes gives a closed surface; the
garment's region function g (>= 0 on the fabric: below the neckline, above the hem, inside the
sleeve length, outside armholes) then cuts it open along hems, necklines and sleeve ends. The
result is returned in the body's garment frame (`Body.garment_frame`), with a record of every
parameter that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inrzoo.bodies import Body
from inrzoo.garments.clip import clip_mesh, largest_component
from inrzoo.garments.params import GarmentParams
from inrzoo.garments.tubes import Tube, fit_tube, smooth_min
from inrzoo.geometry import GeometryError, Mesh, signed_distance

SIDES = ("L", "R")
JOIN = 0.025  # fillet width of the smooth unions (armpits, crotch)
MARGIN = 0.05  # tubes run this far past a cut, so that the cut, not the tube's cap, makes the opening
HANG_SLOPE = 0.35  # a hanging radius shrinks at most this much per metre down the axis
BIG = 10.0
CLEARANCE_PASSES = 4  # pushes along the distance gradient; one is exact on flat skin, concave spots need more
# Grid values closer to 0 than this share of a step are pushed off it (chosen; the surface moves by
# at most ~0.3 mm at the 3 cm physics spacing): marching cubes puts a vertex at the zero grid point
# on every edge meeting it, distinct vertices on one spot, so triangles of zero area.
OFF_ZERO = 0.01
STRAP = 0.04  # chosen: shoulder straps of sleeveless tops keep this width outside the neck opening


@dataclass
class GarmentSettings:
    """Meshing and fitting settings shared by all garments (lengths in metres)."""

    spacing: float = 0.01  # marching-cubes grid step (body frame)
    smoothing: float = 0.025  # Gaussian sigma of the profiles along the axis
    body_samples: int = 200_000  # surface points the tubes are fitted to
    seed: int = 0  # for the body surface samples
    # Chosen: every vertex stands at least this far off the body it is made on, above the cloth
    # model's 4 mm collision margin, so a canonical garment starts free of contact. The tubes are
    # fitted per slab and pass inside the body where it bulges past them (the shoulders of
    # sleeveless tops: up to 4 cm deep before this was enforced).
    clearance: float = 0.005


def part_points(body: Body, count: int, seed: int) -> dict[str, np.ndarray]:
    """Area-weighted surface samples of the body, grouped by the part of each face's first vertex."""
    from inrzoo.bodies import PARTS

    rng = np.random.default_rng(seed)
    corners = body.vertices[body.faces]
    area = 0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1)
    chosen = rng.choice(len(body.faces), size=count, p=area / area.sum())
    u, v = rng.random((2, count))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    tri = corners[chosen]
    points = tri[:, 0] + u[:, None] * (tri[:, 1] - tri[:, 0]) + v[:, None] * (tri[:, 2] - tri[:, 0])
    labels = body.parts[body.faces[chosen, 0]]
    return {name: points[labels == i] for i, name in enumerate(PARTS)}


class GarmentBuilder:
    """Fits the body's tubes once; `build(params)` then makes garments on that body."""

    def __init__(self, body: Body, settings: GarmentSettings | None = None) -> None:
        self.body = body
        self.settings = settings or GarmentSettings()
        self.frame = body.garment_frame()
        points = part_points(body, self.settings.body_samples, self.settings.seed)
        joints = body.joints
        self.waist = body.waist_height()
        trunk_points = np.concatenate([points["torso"], points["leg.L"], points["leg.R"]])
        self.top = float(points["torso"][:, 2].max())
        center = np.array([joints["neck"][0], np.median(points["torso"][:, 1]), self.top])
        self.trunk = fit_tube(trunk_points, center, [0.0, 0.0, -1.0])
        midline = points["torso"][np.abs(points["torso"][:, 0] - joints["root"][0]) < 0.02]
        self.crotch = float(midline[:, 2].min())
        self.arms = {s: fit_tube(points[f"arm.{s}"], joints[f"shoulder.{s}"],
                                 joints[f"wrist.{s}"] - joints[f"shoulder.{s}"]) for s in SIDES}
        self.legs = {s: fit_tube(points[f"leg.{s}"], joints[f"hip.{s}"],
                                 joints[f"ankle.{s}"] - joints[f"hip.{s}"]) for s in SIDES}
        neck = points["neck"]
        self.neck_center = np.array([joints["neck"][0], np.median(neck[:, 1])])
        self.collar = float(np.percentile(neck[:, 2], 5))  # where the neck meets the shoulders
        self._body_mesh = Mesh(body.vertices, body.faces, source="body")

    # --- the pieces --------------------------------------------------------------------------
    def _t_of_z(self, z: float) -> float:
        return self.top - z  # trunk axis points down from the top of the torso

    def _trunk(self, p: GarmentParams, z_low: float, z_high: float) -> Tube:
        tube = self.trunk.cut(self._t_of_z(z_high), self._t_of_z(z_low))
        below_waist = np.maximum(0.0, self.waist - (self.top - tube.t))
        tube = tube.widened(p["ease"] + p.get("flare") * below_waist)
        return tube.hanging(HANG_SLOPE).smoothed(self.settings.smoothing)

    def _limb(self, tube: Tube, length: float, ease: float, flare: float = 0.0) -> Tube:
        if length > tube.t[-1] - 0.02:
            raise GeometryError("garment", f"a sleeve or leg of {length:.3f} m runs past the end of the limb "
                                f"({tube.t[-1] - 0.02:.3f} m at most on this body)")
        tube = tube.cut(tube.t[0], min(length + MARGIN, tube.t[-1]))
        tube = tube.widened(ease + flare * np.maximum(tube.t, 0.0))
        return tube.hanging(HANG_SLOPE).smoothed(self.settings.smoothing)

    def _neckline(self, p: GarmentParams, x: np.ndarray) -> np.ndarray:
        """>= 0 below the neckline: outside the neck opening and under the front dip."""
        dx = x[:, 0] - self.neck_center[0]
        dy = x[:, 1] - self.neck_center[1]
        width = p["neck_width"]
        hole = np.maximum(np.hypot(dx, dy) - width, (self.collar - 0.04) - x[:, 2])
        u = np.minimum(np.abs(dx) / width, 1.0)
        profile = np.sqrt(1.0 - u**2) if p["neck_shape"] < 0.5 else 1.0 - u
        dip = self.collar - p["neck_depth"] * profile + 4.0 * np.maximum(np.abs(dx) - width, 0.0)
        front = np.where(dy < 0, dip - x[:, 2], BIG)  # the body faces -y
        return np.minimum(hole, front)

    def _armholes(self, radius: float, neck_width: float, x: np.ndarray) -> np.ndarray:
        """>= 0 outside both armholes: cylinders of `radius` around each arm's axis past the shoulder,
        sparing a strap of width STRAP around the neck opening."""
        strap = neck_width + STRAP - np.hypot(x[:, 0] - self.neck_center[0], x[:, 1] - self.neck_center[1])
        g = np.full(len(x), BIG)
        for tube in self.arms.values():
            offset = x - tube.origin
            t = offset @ tube.direction
            rho = np.linalg.norm(offset - t[:, None] * tube.direction, axis=1)
            g = np.minimum(g, np.maximum(rho - radius, -0.03 - t))
        return np.maximum(g, strap)

    # --- garment = implicit function f (negative inside) and region g (>= 0 kept) ------------
    def _top(self, p: GarmentParams):
        z_hem = self.waist + p["hem"]
        trunk = self._trunk(p, z_hem - MARGIN, self.top + 0.1)
        sleeve = p.get("sleeve")
        arms = {}
        if p.type != "tank" and sleeve >= 0.05:
            arms = {s: self._limb(self.arms[s], sleeve, p["sleeve_ease"]) for s in SIDES}
        armhole = p["armhole"] if p.type == "tank" else (0.09 if not arms else None)

        def fields(x):
            f, _ = trunk.field(x)
            g = np.minimum(x[:, 2] - z_hem, self._neckline(p, x))
            if armhole is not None:
                g = np.minimum(g, self._armholes(armhole, p["neck_width"], x))
            for tube in arms.values():
                fa, ta = tube.field(x)
                g = np.where(fa < f, sleeve - ta, g)
                f = smooth_min(f, fa, JOIN)
            return f, g

        return fields, [trunk, *arms.values()]

    def _bottom(self, p: GarmentParams):
        z_band = self.waist + p["rise"]
        if p.type == "skirt":
            z_hem = self.waist + p["hem"]
            trunk = self._trunk(p, z_hem - MARGIN, z_band + MARGIN)

            def fields(x):
                f, _ = trunk.field(x)
                return f, np.minimum(z_band - x[:, 2], x[:, 2] - z_hem)

            return fields, [trunk]
        pelvis = self._trunk(p, self.crotch, z_band + MARGIN)
        legs = {}
        for s, tube in self.legs.items():
            t_crotch = (tube.origin[2] - self.crotch) / -tube.direction[2]
            legs[s] = (self._limb(tube, t_crotch + p["leg"], p["ease"], p["flare"]), t_crotch + p["leg"])

        def fields(x):
            f, _ = pelvis.field(x)
            g = z_band - x[:, 2]
            for tube, end in legs.values():
                fl, tl = tube.field(x)
                g = np.where(fl < f, end - tl, g)
                f = smooth_min(f, fl, JOIN)
            return f, g

        return fields, [pelvis, *(tube for tube, _ in legs.values())]

    # --- meshing -------------------------------------------------------------------------------
    def build(self, params: GarmentParams, name: str = "<garment>") -> Mesh:
        """The garment as an open mesh in the garment frame (normalized coordinates)."""
        fields, tubes = self._top(params) if params.category == "top" else self._bottom(params)
        low, high = _bounds(tubes)
        step = self.settings.spacing
        axes = [np.arange(low[k], high[k] + step, step) for k in range(3)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        f, _ = fields(grid)
        volume = f.reshape(len(axes[0]), len(axes[1]), len(axes[2]))
        if not volume.min() < 0 < volume.max():
            raise GeometryError(name, "the garment's implicit function has no zero crossing on the grid")
        vertices, faces = grid_surface(volume, step)
        vertices = vertices + low
        _, g = fields(vertices)
        vertices, faces = clip_mesh(vertices, faces, g)
        if len(faces) == 0:
            raise GeometryError(name, "nothing of the garment is left inside its region")
        vertices, faces = largest_component(vertices, faces)
        return Mesh(self.frame.apply(self._off_the_body(vertices)), faces, source=name)

    def _off_the_body(self, vertices: np.ndarray) -> np.ndarray:
        """Vertices closer to the body than the clearance (or inside it) moved out along the distance's gradient."""
        vertices = vertices.copy()
        for _ in range(CLEARANCE_PASSES):
            distance, gradient = signed_distance(self._body_mesh, vertices, return_gradient=True)
            close = distance < self.settings.clearance
            if not close.any():
                break
            vertices[close] += (self.settings.clearance - distance[close, None]) * gradient[close]
        return vertices


def grid_surface(volume: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Marching cubes of the zero level of a grid of values (spacing `step`, origin 0), with values
    near zero pushed off it first (OFF_ZERO), so that no triangle has zero area."""
    from skimage.measure import marching_cubes

    nudge = OFF_ZERO * step
    volume = np.where(np.abs(volume) < nudge, np.where(volume < 0, -nudge, nudge), volume)
    vertices, faces, _, _ = marching_cubes(volume, level=0.0, spacing=(step,) * 3)
    return vertices, faces.astype(np.int64)


def _bounds(tubes: list[Tube]) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned box around every tube's rings, plus a margin."""
    rings = []
    for tube in tubes:
        angles = tube.angles
        for i in range(len(tube.t)):
            radius = tube.radii[i]
            local = tube.centers[i] + radius[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)
            rings.append(tube.origin + tube.t[i] * tube.direction
                         + local[:, :1] * tube.basis[0] + local[:, 1:] * tube.basis[1])
    rings = np.concatenate(rings)
    return rings.min(axis=0) - 0.04, rings.max(axis=0) + 0.04
