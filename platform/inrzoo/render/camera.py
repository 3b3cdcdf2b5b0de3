"""A pinhole camera orbiting the origin and looking at it, framed on the field's domain ball.

Elevation and azimuth follow matplotlib's view_init (the mesh renders of inrzoo.render.meshes
use elev 20, azim -60), with z up by default (printable parts and Thingi10k are z-up; pass
up="y" for ShapeNet-style data). The light comes from above, to the camera's left and front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

# right-handed (horizontal a, horizontal b, up) frames: a x b = up
_FRAMES = {"z": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
           "y": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0))}


@dataclass
class Camera:
    elevation: float = 20.0  # degrees above the horizontal plane
    azimuth: float = -60.0  # degrees about the up axis
    fov: float = 30.0  # vertical field of view, degrees
    up: Literal["z", "y"] = "z"
    margin: float = 1.1  # the domain ball spans 1/margin of the picture's height
    floor: float = -1.0  # height of the floor plane along `up` (the bottom of the normalized domain)

    def __post_init__(self) -> None:
        if self.up not in _FRAMES:
            raise ValueError(f"Camera.up must be 'z' or 'y', got {self.up!r}")
        if not 1.0 <= self.fov <= 120.0:
            raise ValueError(f"Camera.fov must be in [1, 120] degrees, got {self.fov}")
        if self.margin <= 0:
            raise ValueError(f"Camera.margin must be positive, got {self.margin}")

    def up_vector(self) -> torch.Tensor:
        return torch.tensor(_FRAMES[self.up][2])

    def eye(self, radius: float) -> torch.Tensor:
        a, b, u = (torch.tensor(v) for v in _FRAMES[self.up])
        el, az = math.radians(self.elevation), math.radians(self.azimuth)
        direction = math.cos(el) * math.cos(az) * a + math.cos(el) * math.sin(az) * b + math.sin(el) * u
        return direction * (self.margin * radius / math.sin(math.radians(self.fov) / 2))

    def basis(self, radius: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(forward, right, image up) unit vectors."""
        forward = -self.eye(radius)
        forward = forward / forward.norm()
        right = torch.linalg.cross(forward, self.up_vector())
        if right.norm() < 1e-6:
            raise ValueError(f"Camera: elevation {self.elevation} looks straight along the up axis")
        right = right / right.norm()
        return forward, right, torch.linalg.cross(right, forward)

    def rays(self, height: int, width: int, radius: float) -> tuple[torch.Tensor, torch.Tensor, float]:
        """(eye [3], unit directions [height * width, 3] row-major, angle of one pixel in radians)."""
        if height < 1 or width < 1:
            raise ValueError(f"image size must be positive, got {height}x{width}")
        forward, right, image_up = self.basis(radius)
        half = math.tan(math.radians(self.fov) / 2)
        ys = (1.0 - 2.0 * (torch.arange(height, dtype=torch.float32) + 0.5) / height) * half
        xs = (2.0 * (torch.arange(width, dtype=torch.float32) + 0.5) / width - 1.0) * half * width / height
        directions = forward + xs[None, :, None] * right + ys[:, None, None] * image_up
        directions = directions.reshape(-1, 3)
        return self.eye(radius), directions / directions.norm(dim=1, keepdim=True), 2.0 * half / height

    def light(self, radius: float) -> torch.Tensor:
        """Unit vector towards the (directional) light."""
        forward, right, _ = self.basis(radius)
        direction = self.up_vector() - 0.5 * right - 0.5 * forward
        return direction / direction.norm()
