"""Input encodings placed in front of an MLP: NeRF positional encoding, Gaussian Fourier features.

Both are fixed (not trained) functions of the spec, so a stored dataset reproduces them from
the spec alone; the Fourier matrix B is regenerated from `fourier_seed` with torch's CPU
generator, which is deterministic across machines.
"""

from __future__ import annotations

import math

import torch

from inrzoo.inr.spec import ArchSpec


def encoded_dim(spec: ArchSpec) -> int:
    if spec.encoding == "none":
        return spec.in_dim
    if spec.encoding == "positional":
        return spec.in_dim * (2 * spec.frequencies + int(spec.include_input))
    if spec.encoding == "fourier":
        return 2 * spec.fourier_features
    raise ValueError(f"ArchSpec {spec.name!r}: unknown encoding {spec.encoding!r}")


def fourier_matrix(spec: ArchSpec) -> torch.Tensor:
    """B ~ N(0, sigma^2), shape [fourier_features, in_dim], float32 on CPU."""
    gen = torch.Generator().manual_seed(spec.fourier_seed)
    return torch.randn(spec.fourier_features, spec.in_dim, generator=gen) * spec.fourier_sigma


class InputEncoding:
    """gamma(x) for x [..., in_dim] -> [..., encoded_dim(spec)]."""

    def __init__(self, spec: ArchSpec):
        self.spec = spec
        self.out_dim = encoded_dim(spec)
        # Tensors are made on first use: building an architecture (to check a stored spec
        # against its parameter shapes) allocates nothing that the spec's numbers size.
        self._b: torch.Tensor | None = None
        self._freqs: torch.Tensor | None = None

    @property
    def fourier_matrix(self) -> torch.Tensor:
        if self._b is None:
            self._b = fourier_matrix(self.spec)
        return self._b

    @property
    def frequencies(self) -> torch.Tensor:
        if self._freqs is None:
            # NeRF paper: sin(2^k pi p), cos(2^k pi p) for k = 0..L-1 (the paper's pi, not the code's).
            self._freqs = (2.0 ** torch.arange(self.spec.frequencies, dtype=torch.float32)) * math.pi
        return self._freqs

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        kind = self.spec.encoding
        if kind == "none":
            return x
        if kind == "positional":
            freqs = self.frequencies.to(device=x.device, dtype=x.dtype)
            angles = x.unsqueeze(-2) * freqs.unsqueeze(-1)  # [..., L, in_dim]
            # Per frequency: sin then cos of all coordinates, as NeRF orders them.
            parts = torch.stack((torch.sin(angles), torch.cos(angles)), dim=-2)  # [..., L, 2, in]
            parts = parts.flatten(-3)
            return torch.cat((x, parts), dim=-1) if self.spec.include_input else parts
        b = self.fourier_matrix.to(device=x.device, dtype=x.dtype)
        proj = 2.0 * math.pi * (x @ b.T)
        return torch.cat((torch.cos(proj), torch.sin(proj)), dim=-1)

    def raw_input_columns(self) -> int:
        """How many leading encoded columns are the raw coordinates (geometric init keeps only these)."""
        if self.spec.encoding == "none":
            return self.spec.in_dim
        if self.spec.encoding == "positional" and self.spec.include_input:
            return self.spec.in_dim
        return 0
