"""The layered INR (relu_mlp, siren, lightsal): exact forward, canonical parameter order, init.

Every parameter tensor carries a leading K axis (K INRs of one architecture fitted or
evaluated together), so a forward pass is one batched matrix product per layer:
z = b + h @ W^T with h [K, N, in], W [K, out, in] (torch.nn.Linear layout), b [K, out].
LightSAL's Conv1d(kernel_size=1) layers are exactly such per-point linear maps.

Canonical order: layers.0.weight, layers.0.bias, ..., layers.{L-1}.*, output.weight, output.bias.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from inrzoo.inr.encoding import InputEncoding
from inrzoo.inr.spec import ArchSpec

Params = dict[str, torch.Tensor]


class LayeredINR:
    """A hidden stack with per-architecture activation; see ArchSpec for the fields."""

    def __init__(self, spec: ArchSpec, activation: str):
        if activation not in ("relu", "sine"):
            raise ValueError(f"ArchSpec {spec.name!r}: unknown activation {activation!r}")
        self.spec = spec
        self.activation = activation
        self.encoding = InputEncoding(spec)
        self._layer_dims = self._dims()

    # --- structure -------------------------------------------------------------------------
    def _dims(self) -> list[tuple[str, int, int]]:
        enc = self.encoding.out_dim
        dims, prev = [], enc
        for i, width in enumerate(self.spec.hidden):
            fan_in = prev + (enc if i in self.spec.skip else 0)
            dims.append((f"layers.{i}", fan_in, width))
            prev = width
        dims.append(("output", prev, self.spec.out_dim))
        return dims

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for name, fan_in, fan_out in self._layer_dims:
            shapes[f"{name}.weight"] = (fan_out, fan_in)
            shapes[f"{name}.bias"] = (fan_out,)
        return shapes

    @property
    def num_params(self) -> int:
        return sum(math.prod(s) for s in self.param_shapes().values())

    # --- initialization ----------------------------------------------------------------------
    def init_params(self, seed: int, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu") -> Params:
        """Shared initialization: the same seed gives the same parameters on any machine.

        Drawn in float32 on CPU in canonical order with one torch.Generator, then cast/moved.
        """
        gen = torch.Generator().manual_seed(int(seed))
        params: Params = {}
        last = len(self._layer_dims) - 1
        for index, (name, fan_in, fan_out) in enumerate(self._layer_dims):
            w, b = _INITS[self.spec.init](self, gen, index, index == last, fan_in, fan_out)
            params[f"{name}.weight"] = w
            params[f"{name}.bias"] = b
        return {k: v.to(device=device, dtype=dtype) for k, v in params.items()}

    # --- evaluation ----------------------------------------------------------------------------
    def forward(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """x [K, N, in_dim] -> [K, N] (out_dim 1) or [K, N, out_dim]."""
        if x.dim() != 3:
            raise ValueError(f"{self.spec.label}: forward expects x of shape [K, N, {self.spec.in_dim}], got {tuple(x.shape)}")
        enc = self.encoding(x)
        h = enc
        for i in range(len(self.spec.hidden)):
            if i in self.spec.skip:
                h = torch.cat((h, enc), dim=-1)
            z = torch.baddbmm(params[f"layers.{i}.bias"].unsqueeze(1), h, params[f"layers.{i}.weight"].transpose(1, 2))
            h = self._activate(z, first=i == 0)
        out = torch.baddbmm(params["output.bias"].unsqueeze(1), h, params["output.weight"].transpose(1, 2))
        if self.spec.output == "tanh":
            out = torch.tanh(out)
        return out.squeeze(-1) if self.spec.out_dim == 1 else out

    def _activate(self, z: torch.Tensor, first: bool) -> torch.Tensor:
        if self.activation == "relu":
            return torch.relu(z)
        omega = self.spec.first_omega_0 if first else self.spec.omega_0
        return torch.sin(omega * z)


# --- initialization schemes (each returns weight [out, in], bias [out] in float32) ---------------
def _uniform(gen: torch.Generator, shape: tuple[int, ...], bound: float) -> torch.Tensor:
    return (torch.rand(shape, generator=gen) * 2.0 - 1.0) * bound


def _glorot(arch, gen, index, is_last, fan_in, fan_out):
    # Keras Dense default (Davies' TensorFlow code): glorot_uniform weights, zero biases.
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform(gen, (fan_out, fan_in), bound), torch.zeros(fan_out)


def _torch_default(arch, gen, index, is_last, fan_in, fan_out):
    # nn.Linear.reset_parameters: kaiming_uniform(a=sqrt 5) == U(+-1/sqrt(fan_in)) for W and b.
    bound = 1.0 / math.sqrt(fan_in)
    return _uniform(gen, (fan_out, fan_in), bound), _uniform(gen, (fan_out,), bound)


def _siren(arch, gen, index, is_last, fan_in, fan_out):
    # Sitzmann et al.: first layer U(+-1/fan_in); others U(+-sqrt(6/fan_in)/omega_0); biases
    # keep nn.Linear's default, as in the reference implementation.
    if index == 0:
        w_bound = 1.0 / fan_in
    else:
        w_bound = math.sqrt(6.0 / fan_in) / arch.spec.omega_0
    return _uniform(gen, (fan_out, fan_in), w_bound), _uniform(gen, (fan_out,), 1.0 / math.sqrt(fan_in))


def _geometric(arch, gen, index, is_last, fan_in, fan_out):
    # SAL (Atzmon & Lipman): hidden W ~ N(0, 2/fan_out), b = 0; last W ~ N(sqrt(pi/fan_in), 1e-6),
    # b = -r, so f(x) ~ |x| - r at start. Encoded (non-xyz) and skip columns start at zero so
    # the sphere survives encodings and skip connections (IGR's treatment).
    if is_last:
        w = math.sqrt(math.pi) / math.sqrt(fan_in) + 1e-6 * torch.randn((fan_out, fan_in), generator=gen)
        return w, torch.full((fan_out,), -arch.spec.geometric_radius)
    w = torch.randn((fan_out, fan_in), generator=gen) * (math.sqrt(2.0) / math.sqrt(fan_out))
    enc_dim = arch.encoding.out_dim
    raw = arch.encoding.raw_input_columns()
    if index == 0:
        w[:, raw:] = 0.0
    elif index in arch.spec.skip:
        w[:, fan_in - enc_dim :] = 0.0
    return w, torch.zeros(fan_out)


_INITS: dict[str, Callable] = {
    "glorot": _glorot,
    "torch": _torch_default,
    "siren": _siren,
    "geometric": _geometric,
}
