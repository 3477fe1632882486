"""Device-resident data path: exact epoch semantics under sharding, determinism, augmentation."""

from __future__ import annotations

import pytest
import torch

from lowfreq.data import DeviceLoader, ShardedEpochSampler
from lowfreq.data.transforms import apply_color_jitter


def _images(n: int, size: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def _rank_batches(n, batch_size, world, epoch=0, seed=0, shuffle=True, drop_last=False):
    out = []
    for rank in range(world):
        s = ShardedEpochSampler(n, batch_size, shuffle=shuffle, seed=seed, rank=rank, world_size=world,
                                drop_last=drop_last)
        s.set_epoch(epoch)
        out.append([b.tolist() for b in s.batches(s.order())])
        assert len(s) == sum(len(b) for b in out[-1])
        assert list(s) == [i for b in out[-1] for i in b]
    return out


@pytest.mark.parametrize("world", [1, 2, 3])
@pytest.mark.parametrize("n", [3, 7, 13, 25, 64, 101])
@pytest.mark.parametrize("batch_size", [1, 4, 5])
def test_every_sample_once_per_epoch_on_equal_steps(world, n, batch_size):
    if n < world:
        pytest.skip("n < world_size is rejected")
    for epoch in (0, 1):
        per_rank = _rank_batches(n, batch_size, world, epoch=epoch)
        seen = [i for batches in per_rank for b in batches for i in b]
        assert sorted(seen) == list(range(n))  # every sample exactly once
        steps = {len(batches) for batches in per_rank}
        assert len(steps) == 1  # all ranks run the same number of steps
        for k in range(steps.pop()):
            sizes = [len(batches[k]) for batches in per_rank]
            assert min(sizes) >= 1
            assert max(sizes) - min(sizes) <= 1
            assert max(sizes) <= batch_size + 1


@pytest.mark.parametrize("world", [2, 3])
def test_steps_equal_single_process_with_global_batch(world):
    n, b = 53, 4
    sharded = _rank_batches(n, b, world, epoch=3, seed=7)
    (single,) = _rank_batches(n, b * world, 1, epoch=3, seed=7)
    assert len(single) == len(sharded[0])
    for k, batch in enumerate(single):
        assert sorted(i for ranks in sharded for i in ranks[k]) == sorted(batch)


def test_remainder_rule_and_drop_last():
    s = ShardedEpochSampler(17, 4, world_size=2)  # G = 8: remainder 1 < W is merged into the last step
    assert s.bounds == [0, 8, 17]
    assert s.num_steps == 2
    s = ShardedEpochSampler(18, 4, world_size=2)
    assert s.bounds == [0, 8, 16, 18]
    s = ShardedEpochSampler(18, 4, world_size=2, drop_last=True)
    assert s.bounds == [0, 8, 16]
    per_rank = _rank_batches(18, 4, 2, drop_last=True)
    assert all(len(b) == 4 for batches in per_rank for b in batches)


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="rank must be in"):
        ShardedEpochSampler(10, 2, rank=2, world_size=2)
    with pytest.raises(ValueError, match=r"num_items must be >= 3 \(world_size\)"):
        ShardedEpochSampler(2, 2, world_size=3)
    with pytest.raises(ValueError, match="batch_size"):
        ShardedEpochSampler(10, 0)
    with pytest.raises(ValueError, match="images must be a uint8"):
        DeviceLoader(torch.rand(4, 3, 8, 8), torch.zeros(4), 2)
    with pytest.raises(ValueError, match="padding must be in"):
        DeviceLoader(_images(4), torch.zeros(4), 2, augment=True, padding=8)


def test_order_deterministic_per_seed_and_epoch():
    s = ShardedEpochSampler(1000, 10, seed=3)
    assert torch.equal(s.order(5), ShardedEpochSampler(1000, 10, seed=3).order(5))
    assert not torch.equal(s.order(5), s.order(6))
    assert not torch.equal(s.order(5), ShardedEpochSampler(1000, 10, seed=4).order(5))
    assert torch.equal(ShardedEpochSampler(10, 3, shuffle=False).order(9), torch.arange(10))


def test_loader_batches_deterministic_and_new_each_epoch():
    images, labels = _images(40), torch.arange(40) % 10

    def epoch(loader, e):
        loader.set_epoch(e)
        return [(x.clone(), y.clone()) for x, y in loader]

    a = DeviceLoader(images, labels, 8, shuffle=True, augment=True, seed=1)
    b = DeviceLoader(images, labels, 8, shuffle=True, augment=True, seed=1)
    for (xa, ya), (xb, yb) in zip(epoch(a, 2), epoch(b, 2), strict=True):
        assert torch.equal(xa, xb)
        assert torch.equal(ya, yb)
    e2, e3 = epoch(a, 2), epoch(a, 3)
    assert not torch.equal(torch.cat([x for x, _ in e2]), torch.cat([x for x, _ in e3]))
    # without set_epoch, each pass advances the epoch (a plain loop reshuffles)
    c = DeviceLoader(images, labels, 8, shuffle=True, augment=True, seed=1)
    first, second = [x for x, _ in c], [x for x, _ in c]
    assert torch.equal(torch.cat(second), torch.cat([x for x, _ in epoch(b, 1)]))
    assert not torch.equal(torch.cat(first), torch.cat(second))


def test_loader_augmentation_is_random_crop_flip(reference_crop_flip):
    n = 2000
    images, labels = _images(n, size=12), torch.arange(n) % 10
    loader = DeviceLoader(images, labels, 500, shuffle=True, augment=True, seed=0)
    loader.set_epoch(4)
    order, crop, jitter = loader.epoch_params(4)
    assert jitter is None
    oy, ox, flip = crop
    batches = list(loader)
    assert [len(x) for x, _ in batches] == [500] * 4
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    assert x.shape == (n, 3, 12, 12)
    assert x.dtype == torch.float32
    assert y.dtype == torch.int64
    assert float(x.min()) >= 0.0
    assert float(x.max()) <= 1.0
    assert torch.equal(y, labels[order])
    reference = reference_crop_flip(images[order].float() / 255.0, oy[order], ox[order], flip[order].bool(), 4)
    assert torch.equal(x, reference)  # bit-identical to the DataLoader path's conversion and crop
    # the parameters follow random_crop_flip's distribution: offsets uniform on 0..8, flips fair
    counts = torch.bincount(torch.cat([oy, ox]), minlength=9).double() / (2 * n)
    assert counts.numel() == 9
    assert torch.all((counts - 1 / 9).abs() < 0.03)
    assert abs(flip.double().mean().item() - 0.5) < 0.05
    # un-augmented loaders return the images themselves, in order
    plain = DeviceLoader(images, labels, 300)
    assert torch.equal(torch.cat([x for x, _ in plain]), images.float() / 255.0)


def test_loader_color_jitter_uses_drawn_factors():
    images, labels = _images(64), torch.zeros(64, dtype=torch.long)
    loader = DeviceLoader(images, labels, 64, shuffle=True, augment=True, color_jitter=0.4, seed=2)
    order, _, jitter = loader.epoch_params(0)
    assert jitter is not None
    assert jitter.shape == (3, 64)
    assert float(jitter.min()) >= 0.6
    assert float(jitter.max()) <= 1.4
    (x, _), = list(loader)
    no_jitter = DeviceLoader(images, labels, 64, shuffle=True, augment=True, seed=2)
    (x0, _), = list(no_jitter)
    assert not torch.equal(x, x0)
    assert float(x.min()) >= 0
    assert float(x.max()) <= 1

    assert torch.allclose(x, apply_color_jitter(x0, jitter[:, order]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_loader_batches_equal_cpu_batches():
    images, labels = _images(100, size=32), torch.arange(100) % 10
    cpu = DeviceLoader(images, labels, 32, shuffle=True, augment=True, color_jitter=0.25, seed=1)
    gpu = DeviceLoader(images, labels, 32, shuffle=True, augment=True, color_jitter=0.25, seed=1, device="cuda")
    assert gpu.images.is_cuda
    for (xc, yc), (xg, yg) in zip(cpu, gpu, strict=True):
        assert xg.is_cuda
        assert torch.equal(yc, yg.cpu())
        assert (xc - xg.cpu()).abs().max() <= 1e-6
