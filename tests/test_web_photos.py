"""Web-photo effects do what they claim on real GTSRB crops, are seeded, keep the batch's form, and stay
off (drawing no random number) unless asked for, so the recipes trained before them reproduce."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from traffic_signs.data.augment import (
    add_noise,
    add_streaks,
    augment,
    blur,
    blur_all,
    corrupt,
    jitter_colour,
    jpeg_compress,
    occlude,
    random_homographies,
    to_float,
    warp,
)
from traffic_signs.data.augment_config import HARSH, WEB_EFFECTS, AugmentConfig
from traffic_signs.data.clip_art import clipart
from traffic_signs.data.web_overlays import MASK_HEIGHT, WATERMARK_WORDS, graffiti, sticker, watermark, watermark_atlas
from traffic_signs.data.web_photos import (
    EFFECTS,
    dirt,
    downscale,
    fade,
    frost,
    heavy_jpeg,
    snow,
    thumbnail,
    web_effects,
)
from traffic_signs.errors import TrafficSignsError
from traffic_signs.training.recipe import TrainConfig, augment_config, changed_settings


@pytest.fixture(scope="module")
def signs(train_set) -> torch.Tensor:
    """256 real training crops spread over the whole set (every class), as floats."""
    step = len(train_set.images) // 256
    return to_float(torch.from_numpy(train_set.images[::step][:256].copy()))


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _luma(images: torch.Tensor) -> torch.Tensor:
    return images[:, 0] * 0.299 + images[:, 1] * 0.587 + images[:, 2] * 0.114


def _saturation(images: torch.Tensor) -> torch.Tensor:
    high, low = images.amax(1), images.amin(1)
    return (high - low) / high.clamp(min=1e-3)


def _high_frequency_energy(images: torch.Tensor) -> torch.Tensor:
    """Per image: the mean square of what a Gaussian blur (sigma 1) takes away."""
    return (images - blur_all(images, 1.0)).square().mean(dim=(1, 2, 3))


# ------------------------------------------------------------------------- off by default, wiring


def test_off_by_default_the_batch_and_the_random_stream_are_as_before(signs):
    """The recipes trained before web effects existed (the shipped one among them) draw exactly the
    numbers they drew then: the default augmentation, and the harsh copy with JPEG and rain on, equal
    the transforms of that time composed by hand, and leave the generator in the same state."""
    batch = signs[:64]
    for cfg in (AugmentConfig(), HARSH, replace(HARSH, web_effects=("snow",))):
        first, second = _seeded(5), _seeded(5)
        out = corrupt(augment(batch, cfg, first), cfg, first)
        expected = jitter_colour(warp(batch, random_homographies(len(batch), cfg, second)), cfg, second)
        for _ in range(2):  # augment's corruptions, then the harsh copy's
            expected = occlude(add_noise(blur(expected, cfg, second), cfg, second), cfg, second).clamp(0.0, 1.0)
            if cfg.streak_prob > 0:
                expected = add_streaks(expected, cfg, second)
            if cfg.jpeg_prob > 0:
                expected = jpeg_compress(expected, cfg, second)
        torch.testing.assert_close(out, expected, atol=0, rtol=0)
        assert torch.equal(torch.rand(8, generator=first), torch.rand(8, generator=second))


def test_at_probability_zero_the_batch_and_the_generator_are_untouched(signs):
    generator = _seeded(1)
    state = generator.get_state()
    assert web_effects(signs, AugmentConfig(web_prob=0.0), generator) is signs
    assert torch.equal(generator.get_state(), state)


def test_a_share_of_the_images_gets_one_effect_and_the_rest_are_untouched(signs):
    cfg = AugmentConfig(web_prob=0.4)
    out = web_effects(signs, cfg, _seeded(2))
    changed = (out - signs).abs().amax(dim=(1, 2, 3)) > 0
    assert 0.25 < changed.float().mean() < 0.55
    assert torch.equal(out[~changed], signs[~changed])
    assert torch.equal(out, web_effects(signs, cfg, _seeded(2)))


def test_only_the_chosen_effects_are_drawn(signs):
    """With web_effects=fade alone, every changed image is paler than it was."""
    out = web_effects(signs, AugmentConfig(web_prob=1.0, web_effects=("fade",)), _seeded(3))
    assert (_saturation(out).mean(dim=(1, 2)) < _saturation(signs).mean(dim=(1, 2))).float().mean() > 0.95


def test_the_training_augmentation_applies_them(signs):
    """In the pipeline, after the warp and the camera's corruptions: clip art still has few colours."""
    cfg = AugmentConfig(web_prob=1.0, web_effects=("clipart",))
    out = augment(signs[:32], cfg, _seeded(4))
    colours = [len(torch.unique(image.flatten(1), dim=1).T) for image in (out * 255).round()]
    assert max(colours) <= 11


def test_an_unknown_effect_is_refused(signs):
    with pytest.raises(ValueError, match="choose among"):
        web_effects(signs, AugmentConfig(web_prob=0.5, web_effects=("watermark", "lens_flare")), _seeded(0))


def test_the_command_line_reads_and_writes_the_settings_back():
    cfg = augment_config(["web_prob=0.3", "web_effects=snow,watermark"])
    assert cfg.web_prob == 0.3 and cfg.web_effects == ("snow", "watermark")
    recorded = json.loads(json.dumps(TrainConfig(model="signnet", augment=cfg).to_dict()))  # as a model file has it
    assert changed_settings(recorded) == ["--augment web_prob=0.3", "--augment web_effects=snow,watermark"]
    assert changed_settings(json.loads(json.dumps(TrainConfig(model="signnet").to_dict()))) == []
    for bad in ("web_effects=snow,blizzard", "web_effects=", "web_effects=snow,snow"):
        with pytest.raises(TrafficSignsError, match="among"):
            augment_config([bad])


# ---------------------------------------------------------------------------- every effect's form


@pytest.mark.parametrize("name", WEB_EFFECTS)
def test_every_effect_keeps_the_batch_form_and_is_seeded(signs, name):
    effect = EFFECTS[name]
    batch = signs[:48]
    untouched = batch.clone()
    a, b, c = effect(batch, _seeded(1)), effect(batch, _seeded(1)), effect(batch, _seeded(2))
    assert a.shape == batch.shape and a.dtype == torch.float32
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert not torch.equal(a, batch)
    assert torch.equal(batch, untouched), "the caller's batch is left as it was"
    assert effect(batch[:0], _seeded(1)).shape == (0, 3, 32, 32)


def test_every_configured_effect_is_implemented():
    assert tuple(EFFECTS) == WEB_EFFECTS


@pytest.mark.parametrize("side", [16, 48])
def test_effects_work_at_other_sizes(signs, side):
    batch = torch.nn.functional.interpolate(signs[:8], size=(side, side), mode="bilinear", antialias=True)
    for name, effect in EFFECTS.items():
        out = effect(batch, _seeded(0))
        assert out.shape == batch.shape and torch.isfinite(out).all(), name


# ------------------------------------------------------------------------- each effect's claim


def test_the_watermark_atlas_holds_every_word():
    atlas, widths = watermark_atlas()
    assert len(widths) >= len(WATERMARK_WORDS)
    rows = atlas[0, 0].view(len(widths), MASK_HEIGHT, -1)
    assert (rows.amax(dim=(1, 2)) > 0.9).all(), "every text and logo is drawn"


def test_a_watermark_is_a_light_grey_layer_that_leaves_most_of_the_picture(signs):
    out = watermark(signs, _seeded(0))
    changed = (out - signs).abs().amax(1) > 0.03
    assert changed.any(dim=(1, 2)).float().mean() > 0.9, "almost every picture carries a visible mark"
    assert changed.float().mean(dim=(1, 2)).median() < 0.5, "most pixels stay within the tolerance"
    assert (_saturation(out) <= _saturation(signs) + 1e-4).float().mean() > 0.999, "the layer is grey"
    lighter = ((out - signs).mean(1) * changed).sum(dim=(1, 2)) > 0
    assert lighter.float().mean() > 0.6, "mostly light text"


def test_snow_whitens_the_top_of_the_sign_more_than_the_bottom(signs):
    out = snow(signs, _seeded(0))
    gain = _luma(out) - _luma(signs)
    top, bottom = gain[:, 3:14].mean(dim=(1, 2)), gain[:, 20:29].mean(dim=(1, 2))
    assert top.mean() > 0.08 and top.mean() > 2 * bottom.mean()
    assert (top > bottom).float().mean() > 0.7


def test_frost_lowers_contrast_and_whitens(signs):
    out = frost(signs, _seeded(0))
    contrast_before, contrast_after = _luma(signs).std(dim=(1, 2)), _luma(out).std(dim=(1, 2))
    assert (contrast_after < contrast_before).float().mean() > 0.9
    assert (_luma(out).mean(dim=(1, 2)) > _luma(signs).mean(dim=(1, 2))).float().mean() > 0.9


def test_dirt_is_dark_brownish_and_low_frequency(signs):
    out = dirt(signs, _seeded(0))
    change = out - signs
    assert (_luma(out).mean(dim=(1, 2)) < _luma(signs).mean(dim=(1, 2))).float().mean() > 0.8, "it darkens"
    assert change[:, 2].mean() < change[:, 0].mean(), "blue is taken away more than red: brown"
    smooth = blur_all(change, 1.0)
    assert (change - smooth).square().sum() < 0.35 * change.square().sum(), "stains, not noise"


def test_a_sticker_covers_a_compact_patch(signs):
    out = sticker(signs, _seeded(0))
    changed = (out - signs).abs().amax(1) > 0.05
    share = changed.float().mean(dim=(1, 2))
    assert (share > 0.005).float().mean() > 0.9 and share.max() < 0.45
    rows, cols = changed.any(2), changed.any(1)

    def extent(mask: torch.Tensor) -> torch.Tensor:
        index = torch.arange(mask.shape[1]).expand_as(mask)
        return (torch.where(mask, index, -1).amax(1) - torch.where(mask, index, 99).amin(1) + 1).clamp(min=0)

    assert (extent(rows) * extent(cols) / 1024.0).median() < 0.3, "one patch, not spread over the picture"


def test_graffiti_is_thin_saturated_or_black_strokes(signs):
    out = graffiti(signs, _seeded(0))
    changed = (out - signs).abs().amax(1) > 0.1
    share = changed.float().mean(dim=(1, 2))
    assert (share > 0.01).float().mean() > 0.9 and share.median() < 0.35
    painted = torch.stack([(_saturation(image.unsqueeze(0))[0][mask]).median() if mask.any() else torch.tensor(0.0)
                           for image, mask in zip(out, changed, strict=True)])
    dark = torch.stack([_luma(image.unsqueeze(0))[0][mask].median() if mask.any() else torch.tensor(1.0)
                        for image, mask in zip(out, changed, strict=True)])
    assert ((painted > 0.5) | (dark < 0.15) | (painted < 0.1)).float().mean() > 0.8


def test_fading_pales_colours_lifts_blacks_and_turns_red_pink_or_orange(signs):
    out = fade(signs, _seeded(0))
    assert (_saturation(out).mean(dim=(1, 2)) < _saturation(signs).mean(dim=(1, 2))).all()
    low_before = torch.quantile(_luma(signs).flatten(1), 0.02, dim=1)
    assert (torch.quantile(_luma(out).flatten(1), 0.02, dim=1) > low_before).all()
    r, g, b = signs.unbind(1)
    red = (r > 0.35) & (r > 1.8 * torch.maximum(g, b))
    ratio = lambda images: ((images[:, 1] + images[:, 2]) / images[:, 0].clamp(min=1e-3))[red]  # noqa: E731
    assert red.sum() > 500 and (ratio(out) > ratio(signs)).float().mean() > 0.95


def test_clip_art_has_few_flat_colours_and_no_noise(signs):
    out = clipart(signs, _seeded(0))
    for before, after in zip((signs[:64] * 255).round(), (out[:64] * 255).round(), strict=True):
        assert len(torch.unique(after.flatten(1), dim=1).T) <= 11 < len(torch.unique(before.flatten(1), dim=1).T)
    def flat_share(images: torch.Tensor) -> torch.Tensor:  # of pixels the same colour as their right neighbour
        return (images[..., 1:] == images[..., :-1]).all(1).float().mean(dim=(1, 2))

    assert flat_share(out).min() > 0.4 and flat_share(out).mean() > 0.7 > 10 * flat_share(signs).mean()


def test_heavy_jpeg_is_harsher_than_the_training_default(signs):
    """It takes more away than the training augmentation's JPEG (quality 8-60) on every share of the batch."""
    heavy = (heavy_jpeg(signs, _seeded(0)) - signs).abs().mean(dim=(1, 2, 3))
    usual = (jpeg_compress(signs, AugmentConfig(jpeg_prob=1.0), _seeded(0)) - signs).abs().mean(dim=(1, 2, 3))
    assert heavy.mean() > 1.2 * usual.mean() and heavy.median() > usual.median()


def test_a_thumbnail_loses_the_high_frequencies(signs):
    ratio = _high_frequency_energy(thumbnail(signs, _seeded(0))) / _high_frequency_energy(signs)
    assert ratio.median() < 0.5
    flat = torch.full((4, 3, 32, 32), 0.3)
    torch.testing.assert_close(thumbnail(flat, _seeded(0)), flat, atol=1e-5, rtol=0)


def test_a_careless_downscale_adds_high_frequencies(signs):
    """Aliasing and sharpening halos: more fine detail than the crop had, the same picture otherwise."""
    out = downscale(signs, _seeded(0))
    ratio = _high_frequency_energy(out) / _high_frequency_energy(signs)
    assert ratio.median() > 1.3
    assert (blur_all(out, 1.5) - blur_all(signs, 1.5)).abs().mean() < 0.05
