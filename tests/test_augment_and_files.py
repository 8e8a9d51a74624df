"""Batch augmentation keeps shapes and ranges, is seeded, leaves its input alone, never flips; atomic writes."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from traffic_signs.data.augment import (
    add_noise,
    add_streaks,
    augment,
    blur,
    jitter_colour,
    jpeg_compress,
    mirror,
    occlude,
    random_homographies,
    to_float,
    warp,
)
from traffic_signs.data.augment_config import AugmentConfig
from traffic_signs.files import atomic_writer


def test_augment_keeps_shape_dtype_range_and_is_seeded(train_set):
    batch = to_float(torch.from_numpy(train_set.images[:128]))
    untouched = batch.clone()
    a = augment(batch, AugmentConfig(), torch.Generator().manual_seed(1))
    b = augment(batch, AugmentConfig(), torch.Generator().manual_seed(1))
    c = augment(batch, AugmentConfig(), torch.Generator().manual_seed(2))
    assert a.shape == batch.shape and a.dtype == torch.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(a, batch), "augmentation changes the images"
    assert torch.equal(batch, untouched), "it returns new images and leaves the caller's batch as it was"


def test_with_every_range_at_zero_the_batch_is_unchanged(train_set):
    """So nothing (such as a horizontal flip) hides outside the configured transforms."""
    off = AugmentConfig(rotate_deg=0, scale=(1, 1), shift=0, shear_deg=0, perspective=0, brightness=0,
                        contrast=0, saturation=0, blur_prob=0, noise_prob=0, occlusion_prob=0)
    batch = to_float(torch.from_numpy(train_set.images[:64]))
    out = augment(batch, off, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, batch, atol=1e-5, rtol=0)


def test_augmentation_never_mirrors_a_sign():
    """Signs have a handedness ("turn left" mirrored is "turn right"): an image dark on the left and
    light on the right stays so in every augmented copy, whatever the rotation, shift, colour or
    patches drawn. A flip applied to any share of the batch would break this."""
    image = torch.full((256, 3, 32, 32), 0.1)
    image[..., 16:] = 0.9
    for seed in range(3):
        out = augment(image, AugmentConfig(), torch.Generator().manual_seed(seed))
        left, right = out[..., :11].mean(dim=(1, 2, 3)), out[..., 21:].mean(dim=(1, 2, 3))
        assert (left < right - 0.2).all(), f"seed {seed}: {int((left >= right - 0.2).sum())} images mirrored"


def test_mirror_flips_only_signs_whose_mirror_image_is_a_sign_and_gives_its_class(train_set):
    """A curve left mirrored is a curve right, a Yield stays a Yield, a double curve stays a double
    curve (German rules draw it both ways); a 30 or a Stop is never mirrored."""
    from traffic_signs.classes import MIRRORED

    picked = np.linspace(0, len(train_set.labels) - 1, 1000).astype(int)  # every class
    labels = torch.from_numpy(train_set.labels[picked].astype(np.int64))
    images = to_float(torch.from_numpy(train_set.images[picked]))
    out, new_labels, mirrored = mirror(images, labels, 1.0, torch.Generator().manual_seed(0))
    safe = torch.tensor([int(c) in MIRRORED for c in labels])
    assert torch.equal(mirrored, safe) and safe.any() and (~safe).any()
    assert torch.equal(out[mirrored], images[mirrored].flip(-1)) and torch.equal(out[~mirrored], images[~mirrored])
    assert torch.equal(new_labels[~mirrored], labels[~mirrored])
    pairs = {19: 20, 20: 19, 33: 34, 34: 33, 36: 37, 37: 36, 38: 39, 39: 38, 13: 13, 21: 21, 40: 40}
    for before, after in zip(labels[mirrored].tolist(), new_labels[mirrored].tolist(), strict=True):
        assert after == pairs.get(before, before)
    assert not ({1, 14, 9, 32} & set(labels[mirrored].tolist()))
    half = mirror(images, labels, 0.5, torch.Generator().manual_seed(0))[2]
    assert 0.3 < half[safe].float().mean() < 0.7 and not half[~safe].any()
    assert not mirror(images, labels, 0.0, torch.Generator().manual_seed(0))[2].any()
    from traffic_signs.data.augment import MIRROR

    assert torch.equal(MIRROR[MIRROR], torch.arange(43)), "mirrored twice, every class is back (teacher_answers)"


@pytest.mark.parametrize("quality", [8, 25, 60])
def test_jpeg_augmentation_makes_the_artefacts_a_jpeg_encoder_makes(train_set, quality):
    """Against Pillow's encoder at the same quality: the batch op lands far closer to the real
    JPEG than either is to the original (their pixels differ by rounding and chroma filtering)."""
    images = train_set.images[:64]
    ours = jpeg_compress(to_float(torch.from_numpy(images)),
                         AugmentConfig(jpeg_prob=1.0, jpeg_quality=(quality, quality)), torch.Generator())
    encoded = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", quality=quality)
        encoded.append(np.asarray(Image.open(buffer)))
    real = to_float(torch.from_numpy(np.stack(encoded)))
    original = to_float(torch.from_numpy(images))
    assert (ours - real).abs().mean() < 0.35 * (real - original).abs().mean()
    assert (ours - original).abs().mean() > 0.5 * (real - original).abs().mean()


def test_streaks_are_light_slanted_lines_on_the_chosen_images_only():
    """On black images, rain is grey lines at one slant per image; half the images are chosen, and
    the others come back untouched."""
    black = torch.zeros(64, 3, 16, 16)
    cfg = AugmentConfig(streak_prob=0.5, streak_density=(0.02, 0.02))
    out = add_streaks(black, cfg, torch.Generator().manual_seed(0))
    lit = out.amax(dim=(1, 2, 3)) > 0
    assert 20 <= int(lit.sum()) <= 44
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 1], out[:, 2]), "streaks are grey"
    assert out.max() <= 1.0 and out[lit].amax(dim=(1, 2, 3)).min() >= 0.6
    padded = torch.nn.functional.pad(out[lit, 0] > 0, (1, 1, 1, 1))
    centre = padded[:, 1:-1, 1:-1]

    def along(dy: int, dx: int) -> torch.Tensor:  # lit pixels with a lit neighbour one way or the other
        return padded[:, 1 + dy : 17 + dy, 1 + dx : 17 + dx] | padded[:, 1 - dy : 17 - dy, 1 - dx : 17 - dx]

    slanted = torch.stack([(~centre | along(*step)).all(dim=(1, 2)) for step in ((1, 1), (1, 0), (1, -1))], 1)
    assert slanted.any(1).all(), "every streak pixel continues its image's streak direction"
    assert not slanted.all(1).all(), "and streaks are lines, not blobs"


def test_jpeg_and_streaks_off_by_default_leave_the_random_stream_alone(train_set):
    """The shipped recipe draws no JPEG or rain numbers: the default batch and the generator's state
    after it are exactly those of the five other transforms, so its runs reproduce as before."""
    batch = to_float(torch.from_numpy(train_set.images[:32]))
    cfg = AugmentConfig()
    first = torch.Generator().manual_seed(3)
    out = augment(batch, cfg, first)
    second = torch.Generator().manual_seed(3)
    expected = warp(batch, random_homographies(32, cfg, second))
    for step in (jitter_colour, blur, add_noise, occlude):
        expected = step(expected, cfg, second)
    torch.testing.assert_close(out, expected.clamp(0.0, 1.0), atol=0, rtol=0)
    assert torch.equal(torch.rand(4, generator=first), torch.rand(4, generator=second))


def test_atomic_writer_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "model.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
