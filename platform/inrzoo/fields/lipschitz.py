"""Lipschitz bounds of an INR's raw output g (before its output transform), per row.

certified: the composition bound. Every map in the forward pass is Lipschitz with a known
  constant: a linear layer by the spectral norm of its weight, ReLU by 1, SIREN's sin(omega z)
  by omega, NeRF's positional encoding by sqrt(include_input + sum_k (2^k pi)^2) (each input
  coordinate feeds its own features, so the Jacobian's columns are orthogonal), Gaussian
  Fourier features by 2 pi ||B||_2 (J^T J = (2 pi)^2 B^T B), and a skip concatenation [h, e] by
  sqrt(L_h^2 + L_e^2). Their product bounds |grad g| everywhere. For Davies' MLP with tanh output,
  f = tanh(g) and tanh is 1-Lipschitz, so the same number bounds |grad f|; tracing marches on g,
  whose zero set is f's and |g| >= |tanh g|, so its steps are never shorter.
  This bound is valid but loose: on fitted 8x32 Davies INRs it is 150-250 times the largest
  gradient norm found anywhere in the unit ball (ReLU zeroes about half of each layer, the
  product of norms assumes it never does), so sphere tracing with it takes that many times the
  steps.
estimated (chosen, the renderer's default): safety x the largest |grad g| at a seeded sample of
  points in the ball of the field's domain (autograd). It is not a proof: a feature steeper than
  anything the sample saw can be stepped over; `inrzoo.render` takes either.
"""

from __future__ import annotations

import math

import torch

from inrzoo.inr.mlp import LayeredINR, Params

SAFETY = 1.5  # chosen: the estimate's margin over the largest sampled gradient norm
ESTIMATE_POINTS = 16_384  # chosen: sample size of the estimate (per row)
ESTIMATE_SEED = 0


def spectral_norms(weight: torch.Tensor) -> torch.Tensor:
    """Largest singular value of each [K, out, in] matrix, float64 [K]."""
    return torch.linalg.matrix_norm(weight.detach().to(torch.float64), ord=2)


def encoding_lipschitz(arch: LayeredINR) -> float:
    spec = arch.spec
    if spec.encoding == "none":
        return 1.0
    if spec.encoding == "positional":
        return math.sqrt(int(spec.include_input) + sum((2.0**k * math.pi) ** 2 for k in range(spec.frequencies)))
    if spec.encoding == "fourier":
        b = arch.encoding._b.to(torch.float64)
        return 2.0 * math.pi * float(torch.linalg.matrix_norm(b, ord=2))
    raise ValueError(f"{spec.label}: no Lipschitz bound for encoding {spec.encoding!r}")


def certified(arch: LayeredINR, params: Params) -> torch.Tensor:
    """Composition bound on |grad g| for every row of stacked params, float32 [K]."""
    spec = arch.spec
    enc = encoding_lipschitz(arch)
    hidden = None
    for i in range(len(spec.hidden)):
        if i == 0:
            incoming = torch.full_like(spectral_norms(params["layers.0.weight"]), enc)
        elif i in spec.skip:
            incoming = torch.sqrt(hidden**2 + enc**2)
        else:
            incoming = hidden
        activation = 1.0 if arch.activation == "relu" else (spec.first_omega_0 if i == 0 else spec.omega_0)
        hidden = activation * spectral_norms(params[f"layers.{i}.weight"]) * incoming
    return (spectral_norms(params["output.weight"]) * hidden).to(torch.float32)


def sample_ball(count: int, radius: float, seed: int = ESTIMATE_SEED) -> torch.Tensor:
    """count points uniform in the ball of `radius`, [count, 3] float32, from a fixed seed."""
    gen = torch.Generator().manual_seed(seed)
    direction = torch.randn(count, 3, generator=gen)
    direction /= direction.norm(dim=1, keepdim=True).clamp_min(1e-12)
    r = radius * torch.rand(count, 1, generator=gen) ** (1.0 / 3.0)
    return direction * r


def estimated(raw, rows: int, radius: float, points: int = ESTIMATE_POINTS, safety: float = SAFETY) -> torch.Tensor:
    """safety x max |grad raw| over a seeded sample of the ball, float32 [rows]; raw maps
    [rows, N, 3] -> [rows, N]."""
    x = sample_ball(points, radius).unsqueeze(0).expand(rows, -1, -1).clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(raw(x).sum(), x)
    return (safety * grad.norm(dim=-1).amax(dim=1)).detach().to(torch.float32)
