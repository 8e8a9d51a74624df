"""Batch augmentation keeps shapes, ranges and labels, is seeded, never flips; atomic writes."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from traffic_signs.data.augment import AugmentConfig, augment, to_float
from traffic_signs.files import atomic_writer


def test_augment_keeps_shape_dtype_range_and_is_seeded(train_set):
    batch = to_float(torch.from_numpy(train_set.images[:128]))
    labels = torch.from_numpy(train_set.labels[:128]).clone()
    a = augment(batch, AugmentConfig(), torch.Generator().manual_seed(1))
    b = augment(batch, AugmentConfig(), torch.Generator().manual_seed(1))
    c = augment(batch, AugmentConfig(), torch.Generator().manual_seed(2))
    assert a.shape == batch.shape and a.dtype == torch.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(labels, torch.from_numpy(train_set.labels[:128]))


def test_with_every_range_at_zero_the_batch_is_unchanged(train_set):
    """So nothing (such as a horizontal flip) hides outside the configured transforms."""
    off = AugmentConfig(rotate_deg=0, scale=(1, 1), shift=0, shear_deg=0, perspective=0, brightness=0,
                        contrast=0, saturation=0, blur_prob=0, noise_prob=0, occlusion_prob=0)
    batch = to_float(torch.from_numpy(train_set.images[:64]))
    out = augment(batch, off, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, batch, atol=1e-5, rtol=0)
    assert all(f.name != "flip" for f in dataclasses.fields(AugmentConfig))


def test_atomic_writer_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "model.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
