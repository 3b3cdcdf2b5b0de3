"""The inr2vec encoder and the weight matrix it reads.

The input of inr2vec is one matrix per INR: for every hidden-to-hidden layer of the MLP, the
H x H weight matrix in [out, in] form (row o = the incoming weights of neuron o) followed by
its bias as one more row, all layers stacked, giving [L(H+1), H]. Each row goes through the same
Linear+BatchNorm+ReLU stages and a last Linear, and a max over the rows gives the embedding, so
the embedding does not depend on the order of the rows.

The layer list is read from the architecture's canonical `param_shapes` (weights and biases in
order), so the same code serves "siren" and "relu_mlp" whichever way the weights are stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch
from torch import Tensor, nn

from inrzoo.zoo.inr2vec.config import EncoderConfig


@dataclass(frozen=True)
class LinearLayer:
    """One dense layer of an INR: the names of its tensors and how the weight is laid out."""

    weight: str
    bias: str | None
    in_features: int
    out_features: int
    out_in: bool  # True: weight stored [out, in] (torch.nn.Linear); False: [in, out]


def linear_layers(param_shapes: Mapping[str, Sequence[int]], in_dim: int | None = None) -> list[LinearLayer]:
    """The dense layers of an MLP INR from its canonical (ordered) parameter shapes.

    A 2-D tensor is a weight; a 1-D tensor right after it is its bias. The storage layout is
    found from the bias length (it equals the out size) or, for bias-free nets, from `in_dim`,
    and checked along the chain (each layer's input is the previous layer's output).
    """
    entries = [(name, tuple(int(s) for s in shape)) for name, shape in param_shapes.items()]
    raw: list[tuple[str, tuple[int, int], str | None]] = []
    i = 0
    while i < len(entries):
        name, shape = entries[i]
        if len(shape) != 2:
            raise ValueError(f"parameter {name!r} has shape {shape}: inr2vec reads MLP INRs made of dense layers only")
        bias = None
        if i + 1 < len(entries) and len(entries[i + 1][1]) == 1:
            bias = entries[i + 1][0]
            i += 1
        raw.append((name, shape, bias))
        i += 1
    if not raw:
        raise ValueError("param_shapes is empty: no INR layers to read")
    out_in = _find_layout(raw, dict(entries), in_dim)
    layers = []
    previous_out = None
    for name, shape, bias in raw:
        out_f, in_f = shape if out_in else (shape[1], shape[0])
        if previous_out is not None and in_f != previous_out:
            raise ValueError(f"parameter {name!r} with shape {shape} does not take the previous layer's {previous_out} outputs")
        if bias is not None and tuple(dict(entries)[bias]) != (out_f,):
            raise ValueError(f"bias {bias!r} has shape {dict(entries)[bias]}, expected ({out_f},) for weight {name!r}")
        layers.append(LinearLayer(name, bias, in_f, out_f, out_in))
        previous_out = out_f
    return layers


def _find_layout(raw, shapes: dict, in_dim: int | None) -> bool:
    for name, shape, bias in raw:
        if bias is not None and shape[0] != shape[1]:
            return shapes[bias][0] == shape[0]
    first = raw[0][1]
    if in_dim is not None and first[0] != first[1] and in_dim in first:
        return first[1] == in_dim
    raise ValueError(f"cannot tell whether INR weights are stored [out, in] or [in, out] from shapes {[r[1] for r in raw]}")


def matrix_rows(param_shapes: Mapping[str, Sequence[int]], layers: str = "hidden", in_dim: int | None = None) -> tuple[int, int]:
    """(rows, width) of the encoder input matrix for an architecture, without building it."""
    dense = linear_layers(param_shapes, in_dim)
    width = _hidden_width(dense)
    hidden = len(dense) - 2
    rows = hidden * (width + 1)
    if layers == "all":
        rows += dense[0].in_features + 1 + dense[-1].out_features + 1
    return rows, width


def matrix_blocks(param_shapes: Mapping[str, Sequence[int]], layers: str = "hidden", in_dim: int | None = None) -> Tensor:
    """The tensor each row of the encoder input comes from, as a block index per row [rows]: a
    layer's weight rows form one block and its bias row the next, in the order of `inr_matrix`."""
    dense = linear_layers(param_shapes, in_dim)
    width = _hidden_width(dense)
    sizes = [width, 1] * (len(dense) - 2)
    if layers == "all":
        sizes = [dense[0].in_features, 1, *sizes, dense[-1].out_features, 1]
    return torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))


def _hidden_width(dense: list[LinearLayer]) -> int:
    if len(dense) < 3:
        raise ValueError(f"inr2vec needs at least one hidden-to-hidden layer, the INR has {len(dense)} dense layers")
    widths = {layer.out_features for layer in dense[:-1]}
    if len(widths) != 1:
        raise ValueError(f"inr2vec needs equal hidden widths, the INR has hidden widths {sorted(widths)}")
    return widths.pop()


def _as_out_in(params: Mapping[str, Tensor], layer: LinearLayer) -> Tensor:
    w = params[layer.weight]
    return w if layer.out_in else w.transpose(-1, -2)


def _bias(params: Mapping[str, Tensor], layer: LinearLayer, like: Tensor) -> Tensor:
    if layer.bias is None:
        return like.new_zeros(like.shape[0], layer.out_features)
    return params[layer.bias]


def inr_matrix(params: Mapping[str, Tensor], param_shapes: Mapping[str, Sequence[int]], layers: str = "hidden",
               in_dim: int | None = None) -> Tensor:
    """The encoder input [K, rows, H] for K stacked INRs (every tensor has a leading K axis).

    "hidden" (the paper): for each hidden layer, W [H, H] in [out, in] form then its bias row.
    "all" (thesis C.8): also the first layer as W^T (one row per input coordinate) plus its bias
    row before them, and the last layer's weight rows plus its bias zero-padded to H after them.
    """
    if layers not in ("hidden", "all"):
        raise ValueError(f"layers must be 'hidden' or 'all', got {layers!r}")
    dense = linear_layers(param_shapes, in_dim)
    width = _hidden_width(dense)
    missing = [n for layer in dense for n in (layer.weight, layer.bias) if n is not None and n not in params]
    if missing:
        raise KeyError(f"INR parameters lack {missing} named by the architecture")
    blocks = []
    if layers == "all":
        first = _as_out_in(params, dense[0])
        blocks += [first.transpose(-1, -2), _bias(params, dense[0], first).unsqueeze(-2)]
    for layer in dense[1:-1]:
        w = _as_out_in(params, layer)
        blocks += [w, _bias(params, layer, w).unsqueeze(-2)]
    if layers == "all":
        last = _as_out_in(params, dense[-1])
        b = _bias(params, dense[-1], last)
        padded = last.new_zeros(last.shape[0], 1, width)
        padded[:, 0, : b.shape[-1]] = b
        blocks += [last, padded]
    return torch.cat(blocks, dim=-2)


class Encoder(nn.Module):
    """Shared per-row Linear+BatchNorm+ReLU stages, a last Linear, max-pooled over rows."""

    def __init__(self, input_dim: int, config: EncoderConfig | None = None) -> None:
        super().__init__()
        config = config or EncoderConfig()
        stages: list[nn.Module] = []
        width = input_dim
        for dim in config.hidden_dims:
            # A kernel-1 Conv1d over [B, C, rows] is one Linear applied to every row.
            stages += [nn.Conv1d(width, dim, 1), nn.BatchNorm1d(dim), nn.ReLU()]
            width = dim
        stages.append(nn.Conv1d(width, config.embedding_dim, 1))
        self.stages = nn.Sequential(*stages)
        self.input_dim = input_dim
        self.embedding_dim = config.embedding_dim

    def forward(self, matrices: Tensor) -> Tensor:
        """[B, rows, input_dim] -> [B, embedding_dim]."""
        if matrices.dim() != 3 or matrices.shape[-1] != self.input_dim:
            raise ValueError(f"encoder expects [B, rows, {self.input_dim}] matrices, got {tuple(matrices.shape)}")
        features = self.stages(matrices.transpose(1, 2))
        return features.amax(dim=2)
