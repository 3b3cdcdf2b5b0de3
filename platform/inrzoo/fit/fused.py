"""The fused MLP path of the fit engine: forward, loss gradient and backward of K small MLPs in
one Triton kernel (inrzoo.fit.fused_kernel) instead of torch's per-layer batched products and
autograd, which move every [K, B, W] activation through device memory several times.

The torch path (the architecture's forward + autograd) stays the reference and the fallback:
`choose_kernel` picks "fused" under FitConfig.mlp_kernel "auto" only where it applies (a CUDA
device with triton, an MLP the kernel covers, a loss without input derivatives, float32), and
"fused" asked for where it does not apply is an error that says why. The kernel also runs on
CPU tensors under Triton's interpreter (TRITON_INTERPRET=1), which is how the tests check it
against the torch path on a machine without a GPU.

Losses: L1 is computed inside the kernel (one launch per step). Any other loss runs as a
forward launch, the loss and its gradient with respect to the prediction by torch (the loss
code of inrzoo.fit.losses, unchanged), then the forward + backward launch with that gradient.

Precision (FitConfig.fused_precision): fp32 (default; fp32 FMAs, equal to the torch path within
float rounding), tf32x3 (three tf32 tensor-core products, close to fp32), tf32, bf16 (bf16
operands, fp32 accumulation). Chosen: only fp32 runs unless a config asks; the others must first
be shown not to change the surface-error distribution (benchmarks/fit_precision.py measures it on the development meshes).
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
from dataclasses import dataclass

import torch

from inrzoo.fit.losses import FitLoss
from inrzoo.inr import Architecture

MAX_WIDTH = 64  # widest hidden layer (and encoded input) the kernel takes
TRITON_PRECISION = {"fp32": "ieee", "tf32x3": "tf32x3", "tf32": "tf32", "bf16": "bf16"}


def interpreting() -> bool:
    """Triton's interpreter is on: kernels run on CPU tensors with numpy (tests, not speed)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def triton_available() -> bool:
    return importlib.util.find_spec("triton") is not None


def unsupported(arch: Architecture, loss_fn: FitLoss, eikonal_weight: float, dtype: str) -> str | None:
    """Why the fused kernel cannot fit this architecture and loss (None: it can)."""
    spec = arch.spec
    widths = set(spec.hidden)
    if getattr(arch, "activation", None) not in ("relu", "sine"):
        return f"activation {getattr(arch, 'activation', None)!r} (the kernel has relu and sine)"
    if len(widths) != 1 or max(widths) > MAX_WIDTH:
        return f"hidden widths {spec.hidden} (the kernel takes equal widths up to {MAX_WIDTH})"
    if spec.skip:
        return f"skip connections {spec.skip}"
    if spec.out_dim != 1:
        return f"out_dim {spec.out_dim} (the kernel has one output)"
    if arch.encoding.out_dim > MAX_WIDTH:
        return f"encoded input of {arch.encoding.out_dim} values (at most {MAX_WIDTH})"
    if eikonal_weight > 0:
        return "the eikonal term (it needs derivatives with respect to the input)"
    if dtype != "float32":
        return f"dtype {dtype} (the kernel computes in float32)"
    del loss_fn  # every loss works: L1 in the kernel, the others through dL/dpred from torch
    return None


def choose_kernel(requested: str, arch: Architecture, loss_fn: FitLoss, eikonal_weight: float, dtype: str,
                  device: torch.device) -> str:
    """"torch" or "fused" for FitConfig.mlp_kernel `requested` ("auto", "torch", "fused")."""
    if requested == "torch":
        return "torch"
    why = unsupported(arch, loss_fn, eikonal_weight, dtype)
    if why is None and not triton_available():
        why = "triton is not installed"
    if why is None and device.type != "cuda" and not (requested == "fused" and interpreting()):
        # On CPU only when asked for by name under Triton's interpreter (tests): never by "auto".
        why = f"device {device} (the kernel runs on CUDA devices, or on CPU under TRITON_INTERPRET=1)"
    if why is None:
        return "fused"
    if requested == "fused":
        raise ValueError(f"FitConfig.mlp_kernel 'fused' cannot fit {arch.spec.label} with loss "
                         f"{loss_fn.name!r}: {why}; use mlp_kernel 'auto' or 'torch'")
    return "torch"


@dataclass(frozen=True)
class Launch:
    """How the work is spread: TILE points per tile, warps per program, programs per
    multiprocessor in the persistent grid (chosen defaults, not yet tuned on a GPU)."""

    tile: int = 64
    num_warps: int = 4
    programs_per_sm: int = 4


class FusedMLP:
    """The kernel bound to one architecture, loss and precision."""

    def __init__(self, arch: Architecture, loss_fn: FitLoss, precision: str = "fp32", launch: Launch = Launch()):
        if precision not in TRITON_PRECISION:
            raise ValueError(f"fused precision {precision!r}; known: {sorted(TRITON_PRECISION)}")
        if interpreting():
            _fix_interpreter_for_numpy_2_4()
        from inrzoo.fit import fused_kernel  # needs triton: only here

        spec = arch.spec
        self.kernel = fused_kernel.fused_mlp_kernel
        self.modes = (fused_kernel.FORWARD, fused_kernel.L1_LOSS, fused_kernel.GIVEN_GRAD)
        self.arch, self.loss_fn, self.launch, self.precision = arch, loss_fn, launch, precision
        self.in_dim = arch.encoding.out_dim
        self.width, self.depth = spec.hidden[0], len(spec.hidden)
        self.num_params = arch.num_params
        self.constants = dict(
            IN=self.in_dim, IN_P=_padded(self.in_dim), H=self.width, HP=_padded(self.width), DEPTH=self.depth,
            SINE=arch.activation == "sine", OMEGA_FIRST=float(spec.first_omega_0), OMEGA=float(spec.omega_0),
            TANH=spec.output == "tanh", PRECISION=TRITON_PRECISION[precision],
        )

    # --- the two entry points --------------------------------------------------------------
    def forward(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Predictions [K, B] of the flat parameter rows [K, P] at points x [K, B, in_dim]."""
        return self._forward_encoded(params, self._encoded(x))

    def loss_and_grad(self, params: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                      epochs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-shape losses [K] and their gradients [K, P] with respect to each row's parameters
        (what autograd gives for the sum of the losses through the torch path)."""
        x = self._encoded(x)
        if self.loss_fn.name == "l1":
            return self._gradient(self.modes[1], params, x, y.contiguous())
        with torch.enable_grad():
            pred = self._forward_encoded(params, x).requires_grad_(True)
            per_shape = self.loss_fn(pred, y, epochs)
            (d_pred,) = torch.autograd.grad(per_shape.sum(), pred)
        _, grad = self._gradient(self.modes[2], params, x, d_pred.contiguous())
        return per_shape.detach(), grad

    # --- launching ---------------------------------------------------------------------------
    def _forward_encoded(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        pred = torch.empty(x.shape[:2], dtype=torch.float32, device=x.device)
        self._run(self.modes[0], params, x, x, pred, pred)
        return pred

    def _encoded(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.float32:
            raise ValueError(f"fused MLP: points must be float32, got {x.dtype}")
        return self.arch.encoding(x).contiguous()

    def _gradient(self, mode: int, params: torch.Tensor, x: torch.Tensor, target: torch.Tensor):
        k = x.shape[0]
        splits = self._splits(k, x.shape[1], x.device)
        grads = torch.zeros((splits, k, self.num_params), dtype=torch.float32, device=x.device)
        losses = torch.empty((splits, k), dtype=torch.float32, device=x.device)
        self._run(mode, params, x, target, grads, losses, splits)
        if splits == 1:
            return losses[0], grads[0]
        return losses.sum(0), grads.sum(0)  # a fixed order: deterministic

    def _run(self, mode: int, params: torch.Tensor, x: torch.Tensor, target: torch.Tensor, out: torch.Tensor,
             losses: torch.Tensor, splits: int = 1) -> None:
        k, b = x.shape[:2]
        if params.shape != (k, self.num_params) or params.dtype != torch.float32:
            raise ValueError(f"fused MLP: parameters must be float32 [{k}, {self.num_params}], got "
                             f"{params.dtype} {tuple(params.shape)}")
        params = params.contiguous()
        tile = self._tile(b)
        items = k * splits
        programs = max(1, min(items, _multiprocessors(x.device) * self.launch.programs_per_sm))
        scratch = torch.empty((programs, self.depth, tile, self.constants["HP"]), dtype=torch.float32,
                              device=x.device)
        self.kernel[(programs,)](
            x, target, params, out, losses, scratch, k, b, self.num_params, splits, items,
            MODE=mode, TILE=tile, num_warps=self.launch.num_warps, **self.constants,
        )

    def _tile(self, batch: int) -> int:
        return max(16, min(self.launch.tile, _padded(batch)))

    def _splits(self, k: int, batch: int, device: torch.device) -> int:
        """Programs per shape: enough items to fill the grid, at most one per tile. Chosen: a
        function of K and the device only; it changes the gradient's summation order, so
        results across groupings agree within float rounding."""
        target = _multiprocessors(device) * self.launch.programs_per_sm
        tiles = math.ceil(batch / self._tile(batch))
        return max(1, min(tiles, math.ceil(target / k)))


def _padded(n: int) -> int:
    return max(16, 1 << max(0, (n - 1).bit_length()))


@functools.lru_cache(maxsize=None)
def _multiprocessors(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).multi_processor_count
    return 2  # the interpreter: a small grid, so that programs loop over several items


def _fix_interpreter_for_numpy_2_4() -> None:
    """Triton 3.6's interpreter turns its 1-element scalars into ints with int(array), which
    numpy >= 2.4 refuses (triton-lang/triton#9171, fixed upstream after 3.6): apply that fix."""
    from triton.runtime import interpreter

    original = interpreter._patch_lang_tensor
    if getattr(original, "numpy_2_4_fix", False):
        return

    def patched(tensor, scope):
        original(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(self.handle.data.squeeze()))

    patched.numpy_2_4_fix = True
    interpreter._patch_lang_tensor = patched
