"""ArchSpec: the complete, versioned, JSON-serializable description of one INR architecture.

A spec fixes everything a consumer needs to reproduce f(x) from the stored parameters: the
layer widths, activation constants, skip connections, input encoding (including the seed of
a Gaussian Fourier matrix, which is not a trained parameter) and output transform. Defaults
of each architecture live in `DEFAULTS` so `ArchSpec.default("siren")` is the paper setup.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Literal

from inrzoo import config as _config

SPEC_VERSION = 1

Encoding = Literal["none", "positional", "fourier"]


class SpecSerialization:
    """Copying and (de)serializing a spec dataclass: plain YAML/JSON values, unknown keys refused."""

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return _config.to_dict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>"):
        return _config.from_dict(cls, data, source=source)

    @classmethod
    def from_json(cls, text: str, source: str = "<json>"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source}: architecture spec is not valid JSON ({exc})") from exc
        return cls.from_dict(data, source=source)
Init = Literal["glorot", "torch", "siren", "geometric"]
Output = Literal["none", "tanh"]


@dataclass
class ArchSpec(SpecSerialization):
    """One architecture by registry name plus its hyper-parameters.

    hidden: widths of the hidden layers in order (relu_mlp 8x32 = [32]*8).
    skip: indices of hidden layers whose input is concat(previous activation, encoded input).
    output: transform applied to the last linear layer ("tanh" for Davies, "none" otherwise).
    omega_0 / first_omega_0: SIREN's sin(omega_0 * (W h + b)) constants (siren only).
    encoding: "positional" = NeRF's (x, sin(2^k pi x), cos(2^k pi x)) for k < frequencies;
      "fourier" = Tancik et al.'s [cos(2 pi B x), sin(2 pi B x)], B ~ N(0, fourier_sigma^2)
      of shape [fourier_features, in_dim] drawn from fourier_seed.
    init: "glorot" (Keras Dense default, Davies' TensorFlow code), "torch" (nn.Linear
      default), "siren" (Sitzmann et al.), "geometric" (SAL: zero level set starts as a
      sphere of radius geometric_radius).
    """

    name: str = "relu_mlp"
    hidden: list[int] = field(default_factory=lambda: [32] * 8)
    skip: list[int] = field(default_factory=list)
    output: Output = "tanh"
    init: Init = "glorot"
    omega_0: float = 30.0
    first_omega_0: float = 30.0
    encoding: Encoding = "none"
    frequencies: int = 6
    include_input: bool = True
    fourier_features: int = 128
    fourier_sigma: float = 10.0
    fourier_seed: int = 0
    geometric_radius: float = 1.0
    in_dim: int = 3
    out_dim: int = 1
    spec_version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        if not self.hidden or any(w <= 0 for w in self.hidden):
            raise ValueError(f"ArchSpec {self.name!r}: hidden widths must be positive, got {self.hidden}")
        bad = [i for i in self.skip if not 0 < i < len(self.hidden)]
        if bad:
            raise ValueError(f"ArchSpec {self.name!r}: skip indices {bad} outside 1..{len(self.hidden) - 1}")
        if self.spec_version > SPEC_VERSION:
            raise ValueError(
                f"ArchSpec {self.name!r}: spec_version {self.spec_version} is newer than this library "
                f"understands ({SPEC_VERSION})"
            )

    @classmethod
    def default(cls, name: str, **overrides) -> "ArchSpec":
        """The paper setup of architecture `name`, with any field overridden."""
        if name not in DEFAULTS:
            raise KeyError(f"unknown architecture {name!r}; known: {sorted(DEFAULTS)}")
        values = {**DEFAULTS[name], **overrides}
        return cls(name=name, **values)

    @property
    def label(self) -> str:
        """Short human name, e.g. relu_mlp-8x32 (used in escalation records and tables)."""
        widths = sorted(set(self.hidden))
        size = f"{len(self.hidden)}x{widths[0]}" if len(widths) == 1 else "-".join(map(str, self.hidden))
        enc = "" if self.encoding == "none" else f"+{self.encoding}"
        return f"{self.name}-{size}{enc}"


# Paper settings (design.md): Davies 8x32 ReLU+tanh; inr2vec SIREN 4x512; LightSAL's
# Conv1d(kernel 1) decoder 128-256-512-128-256-512 with the input re-joined at layer 3.
DEFAULTS: dict[str, dict] = {
    "relu_mlp": {"hidden": [32] * 8, "output": "tanh", "init": "glorot"},
    "siren": {"hidden": [512] * 4, "output": "none", "init": "siren"},
    "lightsal": {"hidden": [128, 256, 512, 128, 256, 512], "skip": [2], "output": "none", "init": "geometric"},
}
