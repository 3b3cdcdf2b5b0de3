"""Shape generation with a latent-GAN on inr2vec embeddings (WGAN-GP, Achlioptas et al.).

The critic is updated `critic_steps` times per generator update with
L_D = E[D(fake)] - E[D(real)] + gp_weight * GP, the generator with L_G = -E[D(fake)];
Adam(lr 1e-4, betas (0.5, 0.999)); the noise is N(0, noise_std^2). Generated embeddings are
decoded by the inr2vec decoder into fields, and from there into meshes (see evaluate.py).
"""

from __future__ import annotations

import torch
from torch import Tensor

from inrzoo.zoo.inr2vec.config import GanConfig
from inrzoo.zoo.inr2vec.heads import LatentDiscriminator, LatentGenerator, gradient_penalty


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
