"""Time to render one 8x32 Davies INR at 512x512 with inrzoo.render (Lipschitz-safe sphere tracing
with cone bundles, Lambert shading, floor shadow), against baselines measured in the same run:

- forward: one evaluation of the INR at 512x512 points (the unit of work; the render's cost in
  forwards does not depend on how loaded the machine is);
- naive march: every pixel's ray marched at a fixed step of 1/256 of the domain's diameter,
  then bisection (the tracer's occupancy method applied to the SDF), no bundles, no shadows;
- marching cubes: what inrzoo drew before (geometry.extract_mesh at 128^3 then the matplotlib
  render of inrzoo.render.meshes at 512x512 px);
- certified: the same tracer with the certified Lipschitz bound (product of spectral norms),
  at 64x64 (it is too slow at 512) - its ratio to the estimated bound's 64x64 time, and how many
  pixels of the two pictures differ (a miss of the estimated bound would show there).

    .venv/bin/python benchmarks/render_speed.py [--dataset URI --row N] [--threads 1] [--repeats 3]

Without --dataset, the bundled bunny is fitted first with the Davies preset on a reduced budget
(200K importance samples, 30 epochs, no escalation; about a minute).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch

import inrzoo
from inrzoo import fields, geometry, sampling
from inrzoo.fit import fit_batch, preset
from inrzoo.render import Camera, render_field, trace
from inrzoo.render.meshes import draw_mesh, pyplot
from inrzoo.store import results_from_fit


def fitted_bunny(folder: Path) -> str:
    path = Path(str(resources.files("inrzoo") / "data" / "demo" / "bunny.ply"))
    shape, transform = geometry.normalize(geometry.load(str(path)), mode="sphere")
    samples = sampling.get("importance", n=200_000, pool_size=2_000_000).sample(shape, 0)
    surface, _ = geometry.surface_samples(shape, 20_000, np.random.default_rng(1))
    cfg = preset("davies")
    cfg = dataclasses.replace(cfg, max_epochs=30, escalation=dataclasses.replace(cfg.escalation, ladder=[]))
    started = time.perf_counter()
    result = fit_batch([samples], cfg, surface=[surface])
    print(f"fitted the bundled bunny in {time.perf_counter() - started:.0f} s (davies preset, 30 epochs of 200K "
          f"samples), surface error {result.metrics[0]['surface_error']:.5f}")
    uri = str(folder / "bunny.zarr")
    writer = inrzoo.create_weights(uri, [{"id": "bunny", "uri": str(path)}], [cfg.arch])
    writer.write(writer.regions()[0], results_from_fit([0], result, transforms=[transform]))
    return uri


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def naive_march(field: fields.Field, size: int) -> None:
    eye, directions, _ = Camera().rays(size, size, field.radius)
    near, far = trace.ball_interval(eye[None], directions, field.radius)
    seen = (far > near).nonzero().squeeze(1)
    rays = trace.Rays(torch.zeros(len(seen), dtype=torch.long), eye.expand(len(seen), 3), directions[seen],
                      near[seen], far[seen])
    with torch.no_grad():
        trace.march_bisect(field, rays, 2.0 * field.radius / trace.MARCH_STEPS)


def marching_cubes_render(dataset, row: int, size: int) -> None:
    mesh = dataset.extract_mesh(row, resolution=128)
    plt = pyplot()
    fig = plt.figure(figsize=(size / 100, size / 100), dpi=100)
    draw_mesh(fig.add_subplot(projection="3d"), mesh)
    with tempfile.TemporaryDirectory() as tmp:
        fig.savefig(Path(tmp) / "mc.png", dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default=None, help="a weight dataset (default: fit the bundled bunny)")
    parser.add_argument("--row", type=int, default=0)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        uri = args.dataset or fitted_bunny(Path(tmp))
        dataset = inrzoo.open_weights(uri)
        field = fields.row(dataset, args.row)
        started = time.perf_counter()
        field.lipschitz()
        estimate = time.perf_counter() - started
        print(f"{dataset[args.row].id}: {field.spec.label}, estimated Lipschitz bound {float(field.lipschitz()[0]):.2f} "
              f"({estimate:.2f} s), certified {float(fields.row(dataset, args.row, lipschitz='certified').lipschitz()[0]):.1f}")
        points = torch.rand(1, args.size * args.size, 3) * 2 - 1
        with torch.no_grad():
            forward = best(lambda: torch.cat([field.raw(points[:, s:s + trace.EVAL_CHUNK])
                                              for s in range(0, points.shape[1], trace.EVAL_CHUNK)], 1), args.repeats)
        render = best(lambda: render_field(field, args.size), args.repeats)
        naive = best(lambda: naive_march(field, args.size), 1)
        cubes = best(lambda: marching_cubes_render(dataset, args.row, args.size), 1)
        small = best(lambda: render_field(field, 64), args.repeats)
        certified = best(lambda: render_field(fields.row(dataset, args.row, lipschitz="certified"), 64), 1)
        differ = int((render_field(field, 64) != render_field(fields.row(dataset, args.row, lipschitz="certified"),
                                                               64)).any(-1).sum())
    print(f"\n{args.size}x{args.size}, {args.threads} thread(s), best of {args.repeats}:")
    print(f"{'render (sphere tracing, shadow)':<36} {render:>8.2f} s   = {render / forward:>5.1f} forwards")
    print(f"{'one forward at every pixel':<36} {forward:>8.2f} s")
    print(f"{'naive fixed-step march, no shadow':<36} {naive:>8.2f} s   render is {naive / render:.1f}x faster")
    print(f"{'marching cubes 128^3 + matplotlib':<36} {cubes:>8.2f} s   render is {cubes / render:.1f}x faster")
    print(f"{'certified bound, 64x64':<36} {certified:>8.2f} s   {certified / small:.0f}x the estimated bound's "
          f"{small:.2f} s; {differ} of {64 * 64} pixels differ between the two")


if __name__ == "__main__":
    main()
