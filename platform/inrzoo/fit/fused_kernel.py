"""The Triton kernel of inrzoo.fit.fused: forward and backward of K small MLPs in one launch.

Imported only where the fused path runs (it needs triton; `import inrzoo.fit` never loads it).

Each program takes work items (shape k, split s) in a persistent loop; an item is the tiles
s, s + S, s + 2S, ... of shape k's batch (TILE points each). Per tile the program runs the
chain of [TILE, W] x [W, W] products forward with the activations in registers, keeps what
the backward pass needs of each hidden layer (its output for ReLU, its pre-activation for
sine) in the program's own small scratch slot (written and read back by the same program
within the tile, so it stays in L1/L2; tiny-cuda-nn's fully fused MLPs keep them beside the
multiprocessor the same way), then backpropagates through the layers. Each tile's weight
gradients dW_l = dz_l^T h_(l-1) and bias gradients are added to the item's own gradient row
(in L2, written by no other program): no atomics, a fixed summation order, deterministic
results. (Keeping those sums in registers across tiles instead took ~130 registers per thread
and spilled, in the sm_90 compile of the 8x32 davies MLP.) The caller sums the S partial rows
of a shape.

Parameters are read straight from the engine's flat rows in the canonical order
(layers.0.weight [H, IN], layers.0.bias, ..., output.weight [1, H], output.bias); widths are
padded to powers of two (>= 16, tl.dot's minimum) by masked loads, and padded lanes stay zero
through ReLU and sine, so they contribute nothing.

MODE 0: forward only, writes pred [K, B]. MODE 1: L1 loss in the kernel (per-shape mean of
|pred - y|, d/dpred = sign(pred - y) / B as torch's abs and mean give it), writes loss and
gradient partials. MODE 2: the caller gives dL/dpred [K, B] (any loss, computed by torch on
pred), writes gradient partials.
"""

from __future__ import annotations

import triton
import triton.language as tl

FORWARD, L1_LOSS, GIVEN_GRAD = 0, 1, 2


@triton.jit
def _dot(a, b, acc, PRECISION: tl.constexpr):
    """acc + a @ b in fp32: fp32 operands ("ieee": fp32 FMAs; "tf32", "tf32x3": tensor cores) or
    operands rounded to bf16 ("bf16")."""
    if PRECISION == "bf16":
        return tl.dot(a.to(tl.bfloat16), b.to(tl.bfloat16), acc, out_dtype=tl.float32)
    else:
        return tl.dot(a, b, acc, input_precision=PRECISION, out_dtype=tl.float32)


@triton.jit
def _tanh(x):
    # exp-based (libdevice's tanh has no interpreter path): absolute error ~1e-7.
    e = tl.exp(-2.0 * tl.abs(x))
    t = (1.0 - e) / (1.0 + e)
    return tl.where(x < 0, -t, t)


@triton.jit
def _activate(z, SINE: tl.constexpr, OMEGA: tl.constexpr):
    if SINE:
        return tl.sin(z * OMEGA)
    else:
        return tl.maximum(z, 0.0)


@triton.jit
def _accumulate(ptrs, value, mask):
    """Add a tile's gradient to the item's row, which only this program writes. Every thread
    holding a copy of an element loads it before any thread stores (the barrier), so each tile
    adds once, in tile order: deterministic without atomics."""
    old = tl.load(ptrs, mask=mask, other=0.0)
    tl.debug_barrier()
    tl.store(ptrs, old + value, mask=mask)


@triton.jit(do_not_specialize=["K", "B", "P", "S", "n_items"])
def fused_mlp_kernel(
    x_ptr,  # [K, B, IN] float32 inputs (already encoded)
    t_ptr,  # MODE 1: targets [K, B]; MODE 2: dL/dpred [K, B]; MODE 0: unused
    p_ptr,  # [K, P] parameters, canonical order
    out_ptr,  # MODE 0: pred [K, B]; else gradient partials [S, K, P], zeroed
    loss_ptr,  # MODE 1: loss partials [S, K]
    scratch_ptr,  # [programs, DEPTH, TILE, HP] float32
    K, B, P, S, n_items,
    IN: tl.constexpr, IN_P: tl.constexpr, H: tl.constexpr, HP: tl.constexpr, DEPTH: tl.constexpr,
    SINE: tl.constexpr, OMEGA_FIRST: tl.constexpr, OMEGA: tl.constexpr, TANH: tl.constexpr,
    MODE: tl.constexpr, TILE: tl.constexpr, PRECISION: tl.constexpr,
):
    pid = tl.program_id(0)
    programs = tl.num_programs(0)
    rows_t = tl.arange(0, TILE)
    cin = tl.arange(0, IN_P)
    ch = tl.arange(0, HP)
    in_ok = cin < IN
    h_ok = ch < H
    hh_ok = h_ok[:, None] & h_ok[None, :]
    LAYER: tl.constexpr = H * H + H  # a hidden layer's parameters (weight, then bias)
    FIRST: tl.constexpr = H * IN + H
    OUT_W: tl.constexpr = FIRST + (DEPTH - 1) * LAYER
    scratch = scratch_ptr + pid.to(tl.int64) * (DEPTH * TILE * HP)
    slot = rows_t[:, None] * HP + ch[None, :]
    n_tiles = tl.cdiv(B, TILE)
    for item in range(pid, n_items, programs):
        shape = (item // S).to(tl.int64)
        split = item % S
        params = p_ptr + shape * P
        grads = out_ptr + (split * K + shape) * P
        loss_sum = 0.0
        for tile in range(split, n_tiles, S):
            rows = tile * TILE + rows_t
            live = rows < B
            point = shape * B + rows
            x = tl.load(x_ptr + point[:, None] * IN + cin[None, :], mask=live[:, None] & in_ok[None, :], other=0.0)
            # ---- forward: h_l = act(h_(l-1) W_l^T + b_l); W^T read as [in, out] by index
            w_t = tl.load(params + ch[None, :] * IN + cin[:, None], mask=in_ok[:, None] & h_ok[None, :], other=0.0)
            b = tl.load(params + H * IN + ch, mask=h_ok, other=0.0)
            z = _dot(x, w_t, tl.zeros((TILE, HP), tl.float32), PRECISION) + b[None, :]
            h = _activate(z, SINE, OMEGA_FIRST)
            for fwd in tl.static_range(1, DEPTH):
                # What the backward pass needs of layer fwd - 1: its output (ReLU) or its input (sine).
                if MODE != 0:
                    if SINE:
                        tl.store(scratch + (fwd - 1) * TILE * HP + slot, z)
                    else:
                        tl.store(scratch + (fwd - 1) * TILE * HP + slot, h)
                base = FIRST + (fwd - 1) * LAYER
                w_t = tl.load(params + base + ch[None, :] * H + ch[:, None], mask=hh_ok, other=0.0)
                b = tl.load(params + base + H * H + ch, mask=h_ok, other=0.0)
                z = _dot(h, w_t, tl.zeros((TILE, HP), tl.float32), PRECISION) + b[None, :]
                h = _activate(z, SINE, OMEGA)
            w_out = tl.load(params + OUT_W + ch, mask=h_ok, other=0.0)
            pred = tl.sum(h * w_out[None, :], axis=1) + tl.load(params + OUT_W + H)
            if TANH:
                pred = _tanh(pred)
            if MODE == 0:
                tl.store(out_ptr + point, pred, mask=live)
            else:
                # ---- the loss gradient at the output
                if MODE == 1:
                    diff = pred - tl.load(t_ptr + point, mask=live, other=0.0)
                    loss_sum += tl.sum(tl.where(live, tl.abs(diff), 0.0), axis=0)
                    sign = tl.where(diff > 0, 1.0, tl.where(diff < 0, -1.0, 0.0))
                    d_pred = tl.where(live, sign * (1.0 / B), 0.0)
                else:
                    d_pred = tl.load(t_ptr + point, mask=live, other=0.0)
                if TANH:
                    d_pred = d_pred * (1.0 - pred * pred)
                _accumulate(grads + OUT_W + ch, tl.sum(d_pred[:, None] * h, axis=0), h_ok)
                _accumulate(grads + OUT_W + H + ch, tl.where(ch == 0, tl.sum(d_pred, axis=0), 0.0), ch == 0)
                d_h = d_pred[:, None] * w_out[None, :]
                # ---- backward: dz_l = dh_l act'(.), dW_l += dz_l^T h_(l-1), dh_(l-1) = dz_l W_l
                # (the barriers in _accumulate also order the scratch writes above before the reads)
                z_cur = z
                h_cur = h
                for layer in tl.static_range(DEPTH - 1, -1, -1):
                    if SINE:
                        omega = OMEGA_FIRST if layer == 0 else OMEGA
                        d_z = (d_h * tl.cos(z_cur * omega)) * omega
                    else:
                        d_z = tl.where(h_cur > 0, d_h, 0.0)
                    if layer == 0:
                        _accumulate(grads + ch[:, None] * IN + cin[None, :], _dot(tl.trans(d_z), x, tl.zeros(
                            (HP, IN_P), tl.float32), PRECISION), h_ok[:, None] & in_ok[None, :])
                        _accumulate(grads + H * IN + ch, tl.sum(d_z, axis=0), h_ok)
                    else:
                        prev = tl.load(scratch + (layer - 1) * TILE * HP + slot)
                        if SINE:
                            z_cur = prev
                            omega_prev = OMEGA_FIRST if layer == 1 else OMEGA
                            h_cur = tl.sin(prev * omega_prev)
                        else:
                            h_cur = prev
                        base = FIRST + (layer - 1) * LAYER
                        d_w = _dot(tl.trans(d_z), h_cur, tl.zeros((HP, HP), tl.float32), PRECISION)
                        _accumulate(grads + base + ch[:, None] * H + ch[None, :], d_w, hh_ok)
                        _accumulate(grads + base + H * H + ch, tl.sum(d_z, axis=0), h_ok)
                        w = tl.load(params + base + ch[:, None] * H + ch[None, :], mask=hh_ok, other=0.0)
                        d_h = _dot(d_z, w, tl.zeros((TILE, HP), tl.float32), PRECISION)
                tl.debug_barrier()  # this tile's scratch reads end before the next tile writes
        if MODE == 1:
            tl.store(loss_ptr + split * K + shape, loss_sum / B)
