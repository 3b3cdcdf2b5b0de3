"""Shape generation with a latent-GAN on embeddings (WGAN-GP, Achlioptas et al.; inr2vec thesis C.5).

The generator maps noise -> 128 -> embedding (ReLU out, as in l-GAN), the critic embedding ->
256 -> 512 -> 1. The critic is updated `critic_steps` times per generator update with
L_D = E[D(fake)] - E[D(real)] + gp_weight * GP, the generator with L_G = -E[D(fake)];
Adam(lr 1e-4, betas (0.5, 0.999)); the noise is N(0, noise_std^2). Generated embeddings are
decoded by the model's decoder into fields, and from there into meshes (reconstruction.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field

import torch
from torch import Tensor, nn

from inrzoo.zoo.core.model import Encoder, FieldDecoder
from inrzoo.zoo.core.tasks import Task, TaskContext, TaskOutcome
from inrzoo.zoo.tasks.embedding import embed_split
from inrzoo.zoo.tasks.reconstruction import decode_meshes


@dataclass
class GanConfig:
    """Latent-GAN of Achlioptas et al. (WGAN-GP) on embeddings."""

    noise_dim: int = 128
    generator_dims: list[int] = _field(default_factory=lambda: [128])  # then embedding_dim, ReLU out
    discriminator_dims: list[int] = _field(default_factory=lambda: [256, 512])  # then 1 logit
    noise_std: float = 0.2
    gp_weight: float = 10.0
    critic_steps: int = 5
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    epochs: int = 2000
    batch_size: int = 50
    seed: int = 0


def _mlp(dims: list[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return layers


class LatentGenerator(nn.Module):
    """noise [B, noise_dim] -> embeddings [B, embedding_dim]; ReLU on the output as in l-GAN."""

    def __init__(self, noise_dim: int, hidden_dims: list[int], embedding_dim: int, relu_output: bool = True) -> None:
        super().__init__()
        layers = _mlp([noise_dim, *hidden_dims, embedding_dim])
        if relu_output:
            layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.noise_dim = noise_dim

    def forward(self, noise: Tensor) -> Tensor:
        return self.net(noise)


class LatentDiscriminator(nn.Module):
    """embeddings [B, E] -> critic logits [B] (no sigmoid: WGAN critic)."""

    def __init__(self, embedding_dim: int, hidden_dims: list[int]) -> None:
        super().__init__()
        self.net = nn.Sequential(*_mlp([embedding_dim, *hidden_dims, 1]))

    def forward(self, embeddings: Tensor) -> Tensor:
        return self.net(embeddings).squeeze(-1)


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor, alpha: Tensor | None = None,
                     generator: torch.Generator | None = None) -> Tensor:
    """Gulrajani et al.: mean over the batch of (||d critic / d x_hat||_2 - 1)^2 with
    x_hat = real + alpha (fake - real), alpha ~ U(0, 1) per sample. Differentiable w.r.t. the
    critic parameters (create_graph) so it can be added to the critic loss."""
    if alpha is None:
        alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=generator,
                           device=real.device, dtype=real.dtype)
    interpolates = (real + alpha * (fake - real)).detach().requires_grad_(True)
    scores = critic(interpolates)
    (grads,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    slopes = grads.flatten(1).norm(dim=1)
    return ((slopes - 1.0) ** 2).mean()


def build_gan(embedding_dim: int, config: GanConfig | None = None) -> tuple[LatentGenerator, LatentDiscriminator]:
    config = config or GanConfig()
    generator = LatentGenerator(config.noise_dim, list(config.generator_dims), embedding_dim)
    critic = LatentDiscriminator(embedding_dim, list(config.discriminator_dims))
    return generator, critic


def _noise(n: int, config: GanConfig, device, rng: torch.Generator | None) -> Tensor:
    return torch.randn(n, config.noise_dim, generator=rng, device=device) * config.noise_std


def train_latent_gan(embeddings: Tensor, config: GanConfig | None = None, device: torch.device | str = "cpu",
                     ) -> tuple[LatentGenerator, LatentDiscriminator, dict[str, list[float]]]:
    """Train the latent-GAN on embeddings [N, E]; history holds per-epoch mean losses and GP."""
    config = config or GanConfig()
    if embeddings.dim() != 2 or len(embeddings) < 2:
        raise ValueError(f"train_latent_gan: expected at least 2 embeddings [N, E], got {tuple(embeddings.shape)}")
    torch.manual_seed(config.seed)
    rng = torch.Generator().manual_seed(config.seed)
    generator, critic = build_gan(embeddings.shape[1], config)
    generator, critic = generator.to(device), critic.to(device)
    betas = (config.beta1, config.beta2)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=config.lr, betas=betas)
    data = embeddings.float()
    batch = min(config.batch_size, len(data))
    # As in l-GAN: an epoch is N / batch critic updates, grouped critic_steps per generator step.
    iterations = max(1, len(data) // batch // config.critic_steps)
    history: dict[str, list[float]] = {"loss_d": [], "loss_g": [], "gp": []}
    for _ in range(config.epochs):
        sums = {"loss_d": 0.0, "loss_g": 0.0, "gp": 0.0}
        for _ in range(iterations):
            for _ in range(config.critic_steps):
                real = data[torch.randint(len(data), (batch,), generator=rng)].to(device)
                fake = generator(_noise(batch, config, "cpu", rng).to(device)).detach()
                gp = gradient_penalty(critic, real, fake)
                loss_d = critic(fake).mean() - critic(real).mean() + config.gp_weight * gp
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                sums["loss_d"] += float(loss_d.detach()) / config.critic_steps
                sums["gp"] += float(gp.detach()) / config.critic_steps
            loss_g = -critic(generator(_noise(batch, config, "cpu", rng).to(device))).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            sums["loss_g"] += float(loss_g.detach())
        for key, value in sums.items():
            history[key].append(value / iterations)
    generator.eval()
    critic.eval()
    return generator, critic, history


@torch.no_grad()
def sample_embeddings(generator: LatentGenerator, n: int, config: GanConfig | None = None, seed: int = 0) -> Tensor:
    """n generated embeddings [n, E] from noise N(0, noise_std^2) drawn with `seed`."""
    config = config or GanConfig()
    generator.eval()
    device = next(generator.parameters()).device
    noise = _noise(n, config, "cpu", torch.Generator().manual_seed(seed)).to(device)
    return generator(noise).cpu()


@dataclass
class GenerationSettings:
    gan: GanConfig = _field(default_factory=GanConfig)
    samples: int = 8  # generated codes decoded to meshes (PLY files)
    mesh_resolution: int = 64
    batch_size: int = 64


class GenerationTask(Task):
    name = "generation"
    config_class = GenerationSettings
    requires = (Encoder, FieldDecoder)

    def run(self, ctx: TaskContext, cfg: GenerationSettings) -> TaskOutcome:
        embeddings = embed_split(ctx.model, ctx.data.views["train"], cfg.batch_size).embeddings
        generator, _, history = train_latent_gan(embeddings, cfg.gan)
        codes = sample_embeddings(generator, cfg.samples, cfg.gan, seed=cfg.gan.seed)
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        files = []
        for i, mesh in enumerate(decode_meshes(ctx.model, codes, cfg.mesh_resolution)):
            if mesh is not None and len(mesh.faces):
                files.append(ctx.out_dir / f"generated_{i:03d}.ply")
                mesh.export(files[-1])
        # How close generated codes lie to real ones, relative to real codes' own spacing.
        nearest = torch.cdist(codes, embeddings).min(1).values.mean()
        spacing = torch.cdist(embeddings, embeddings).fill_diagonal_(float("inf")).min(1).values.mean()
        return TaskOutcome({"gan_critic_loss": history["loss_d"][-1], "gan_generator_loss": history["loss_g"][-1],
                            "generated_meshes": float(len(files)),
                            "generated_nearest_ratio": float(nearest / spacing)}, files)
