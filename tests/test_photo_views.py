"""The training views that teach real photos: signs framed as photos show them, drawn signs,
and pictures of no GTSRB sign; and fine-tuning from a shipped committee's member."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from traffic_signs.classes import NUM_CLASSES, turnable
from traffic_signs.data.augment_config import OUTLIER_KINDS
from traffic_signs.data.drawn_signs import (
    CLASS_DESIGNS,
    ENDED_ZONE_DISCS,
    NOT_A_CLASS,
    OUTLIER_DESIGNS,
    OUTLINES,
    SPEED_LIMIT_CLASSES,
    ZONE_DISCS,
    ZONE_TEXT_TOP,
    draw_class,
    draw_lookalikes,
    draw_signs,
    draw_zone_blanks,
)
from traffic_signs.data.photo_views import (
    PhotoViews,
    SignPool,
    add_pole_or_plate,
    class_masks,
    fragments,
    in_daylight,
    paste,
)
from traffic_signs.data.scenes import find_background_photos, load_photos, sign_shape
from traffic_signs.errors import ModelFileError
from traffic_signs.models.io import initial_weights, load_state
from traffic_signs.prediction.crops import DEFAULT_MODEL, find_model_json
from traffic_signs.training.recipe import TrainConfig, changed_settings

needs_photos = pytest.mark.skipif(not find_background_photos(), reason="no background photographs "
                                  "(scripts/install_backgrounds.sh; `make test` installs them)")


def test_drawings_are_seeded_outlined_and_labelled():
    count = len(OUTLIER_DESIGNS)
    outliers, labels = draw_signs(count, 48, seed=3, outliers=True)
    assert outliers.shape == (count, 48, 48, 4) and (labels == NOT_A_CLASS).all()
    again, _ = draw_signs(count, 48, seed=3, outliers=True)
    assert np.array_equal(outliers, again), "the same seed draws the same signs"
    assert not np.array_equal(outliers, draw_signs(count, 48, seed=4, outliers=True)[0])
    assert (outliers[:, 24, 24, 3] == 255).all(), "every sign covers its centre"
    assert (outliers[:, 47, 0, 3] == 0).sum() == len(OUTLINES), "discs, diamonds, triangles leave a corner out"
    signs, classes = draw_signs(40, 48, seed=0, outliers=False)
    assert set(classes) <= set(SPEED_LIMIT_CLASSES.values()) | {15} and len(set(classes)) >= 5


def test_every_design_draws_each_geometric_class_in_its_gtsrb_shape_and_colours():
    signs, classes = draw_signs(400, 48, seed=0, outliers=False, every_design=True)
    assert set(CLASS_DESIGNS) <= set(classes) <= set(CLASS_DESIGNS) | set(SPEED_LIMIT_CLASSES.values())
    assert 0.4 < np.isin(classes, list(SPEED_LIMIT_CLASSES.values())).mean() < 0.6, "half are speed limits"
    rng = np.random.default_rng(0)
    for class_id in CLASS_DESIGNS:
        drawing = draw_class(class_id, 64, rng).astype(int)
        alpha, rgb = drawing[..., 3] > 0, drawing[..., :3]
        outline = CLASS_DESIGNS[class_id][1]
        assert {"triangle": "triangle_up"}.get(outline, outline) == sign_shape(class_id), f"class {class_id}'s outline"
        assert alpha[32, 32] and not alpha[0, 0], f"class {class_id}: a sign, not a plate"
        inside = rgb[alpha]
        blue = (inside[:, 2] > inside[:, 0] + 60).mean()
        red = (inside[:, 0] > inside[:, 2] + 100).mean()
        assert (blue > 0.5) == (class_id in range(33, 41)), f"class {class_id}: blue discs are the mandatory signs"
        assert red > 0.1 or class_id in (*range(32, 41), 12), f"class {class_id}: red rim, field or ring"


def test_lookalikes_are_zone_signs_and_left_or_right_forks():
    """A Zone sign is a plate whose red ring sits above dark lettering; the fork is a blue disc
    whose white arrows reach both sides. Both are drawn in turn, seeded."""
    drawings = draw_lookalikes(40, 64, seed=1).astype(int)
    assert np.array_equal(drawings, draw_lookalikes(40, 64, seed=1))
    for zone in drawings[0::2]:
        rgb, alpha = zone[..., :3], zone[..., 3]
        assert (alpha == 255).all(), "a plate fills its picture"
        red = (rgb[..., 0] > rgb[..., 2] + 100) & (rgb[..., 0] > rgb[..., 1] + 100)
        rows = np.nonzero(red.any(axis=1))[0]
        assert rows.max() < 0.7 * 64 and red[:, :32].sum() > 20 and red[:, 32:].sum() > 20, "a disc up top"
        lettering = rgb[int(0.72 * 64):60, 8:56].sum(axis=-1) < 200
        assert lettering.mean() > 0.08 and not red[int(0.72 * 64):].any(), "ZONE below it"
    for fork in drawings[1::2]:
        rgb, alpha = fork[..., :3], fork[..., 3] > 0
        assert not alpha[0, 0] and alpha[32, 32], "a disc"
        white = alpha & (rgb.min(axis=-1) > 180)
        assert white[:, 8:24].sum() > 10 and white[:, 40:56].sum() > 10, "arrows to the left and to the right"
        assert ((rgb[..., 2] > rgb[..., 0] + 60) & alpha).sum() > 0.5 * alpha.sum()


def test_paste_puts_the_sign_inside_its_box_and_leaves_the_background_elsewhere():
    generator = torch.Generator().manual_seed(0)
    n, side = 64, 32
    signs, alpha = torch.ones(n, 3, 64, 64), torch.ones(n, 1, 64, 64)
    backgrounds = torch.zeros(n, 3, side, side)
    pictures, boxes = paste(signs, alpha, 1.0, backgrounds, generator, size=(0.5, 0.9))
    centres = (torch.arange(side) + 0.5) / side * 2 - 1
    for picture, (x0, y0, x1, y1) in zip(pictures, boxes, strict=True):
        inside_x = (centres > x0 + 0.1) & (centres < x1 - 0.1)
        inside_y = (centres > y0 + 0.1) & (centres < y1 - 0.1)
        outside_x = (centres < x0 - 0.1) | (centres > x1 + 0.1)
        assert (picture[:, inside_y][:, :, inside_x] > 0.99).all()
        assert (picture[:, :, outside_x] < 0.01).all()
        assert 0.5 / 1.17 <= (x1 - x0) / 2 <= 0.9 * 1.17, "box side as asked, a little stretched"


def test_pole_and_plate_are_drawn_below_the_sign_only():
    generator = torch.Generator().manual_seed(1)
    pictures = torch.full((16, 3, 32, 32), 0.5)
    boxes = torch.tensor([[-0.5, -0.9, 0.5, 0.1]]).repeat(16, 1)
    out = add_pole_or_plate(pictures.clone(), boxes, generator, p_pole=1.0, p_plate=0.0)
    assert torch.equal(out[:, :, :14], pictures[:, :, :14]), "nothing above the sign's bottom edge changes"
    assert (out[:, :, 20:, 16] != 0.5).all(), "the pole runs down from the sign's middle"
    assert torch.equal(out[:, :, :, :4], pictures[:, :, :, :4]), "and no wider than a pole"


def test_daylight_stretches_dull_signs_and_keeps_the_range():
    dull = torch.rand(8, 3, 16, 16) * 0.2 + 0.1
    bright = in_daylight(dull, torch.Generator().manual_seed(0), share=1.0)
    assert bright.min() >= 0 and bright.max() <= 1
    assert (bright.flatten(1).quantile(0.99, dim=1) > 0.95).all()
    none = torch.zeros(0, 3, 16, 16)
    assert in_daylight(none, torch.Generator()).shape == none.shape, "an empty batch (no ended Zone drawn) passes"


def test_fragments_show_part_of_a_sign_enlarged(train_set):
    crops = torch.from_numpy(train_set.images[:32]).permute(0, 3, 1, 2).float() / 255
    pieces = fragments(crops, torch.Generator().manual_seed(0))
    assert pieces.shape == crops.shape
    assert ((pieces - crops).abs().mean(dim=(1, 2, 3)) > 0.02).all(), "no fragment is the whole sign"


def test_class_masks_follow_each_class_shape():
    masks = class_masks(64)
    assert masks.shape == (NUM_CLASSES, 1, 64, 64)
    assert masks[1, 0, 32, 32] == 1 and masks[1, 0, 2, 2] == 0, "a disc inside the crop's border"
    assert masks[13, 0, 12, 32] > masks[13, 0, 52, 32] / 2, "yield points down: wide at the top"
    assert masks[11, 0, 50, 32] == 1 and masks[11, 0, 12, 12] == 0, "a warning triangle points up"


@needs_photos
def test_photo_views_frame_real_signs_and_draw_every_outlier_kind(train_set):
    photos = load_photos(find_background_photos()[:4], long_side=512)
    views = PhotoViews(photos, 32, seed=0, backgrounds=200, drawings=60)
    generator = torch.Generator().manual_seed(0)
    picked = np.arange(0, len(train_set), len(train_set) // 200)[:200]
    crops = torch.from_numpy(train_set.images[picked]).permute(0, 3, 1, 2).float() / 255
    labels = torch.from_numpy(train_set.labels[picked])
    framed, new_labels = views.photo_framed(crops, labels, generator)
    assert framed.shape == crops.shape and framed.min() >= 0 and framed.max() <= 1
    changed = new_labels != labels
    assert 0 < int(changed.sum()) < 60, "about one in ten becomes a drawing"
    assert set(new_labels[changed].tolist()) <= set(SPEED_LIMIT_CLASSES.values()) | {15}
    pool = SignPool.of(train_set.images, train_set.labels)
    assert torch.equal(pool.turnable, torch.from_numpy(turnable(train_set.labels)))
    outliers = views.outliers(OUTLIER_KINDS, 40, pool, generator)
    assert outliers.shape == (40, 3, 32, 32) and outliers.min() >= 0 and outliers.max() <= 1
    with pytest.raises(ValueError, match="unknown outlier kind"):
        views.outliers(("sky",), 4, pool, generator)


@needs_photos
def test_zone_plates_hold_a_real_gtsrb_disc_above_zone(train_set):
    """The disc is a training crop's own pixels, placed in the plate's upper part; ZONE stays
    below it, the plate's line around both; ended Zones take an ended disc."""
    views = PhotoViews(load_photos(find_background_photos()[:2], long_side=512), 32, seed=0, backgrounds=20,
                       drawings=40)
    pool = SignPool.of(train_set.images, train_set.labels)
    assert set(train_set.labels[pool.zone_discs.numpy()]) == set(ZONE_DISCS)
    assert set(train_set.labels[pool.ended_zone_discs.numpy()]) == set(ENDED_ZONE_DISCS)
    generator = torch.Generator().manual_seed(0)
    for blanks, discs in ((views.zone_blanks, pool.zone_discs), (views.ended_zone_blanks, pool.ended_zone_discs)):
        plates = views.zone_plates(blanks, discs, 16, pool, generator)
        assert plates.shape == (16, 4, 64, 64) and (plates[:, 3] == 1).all(), "a plate fills its picture"
        grey, text = plates[:, :3].mean(1), round(ZONE_TEXT_TOP * 64)
        white = grey.flatten(1).quantile(0.9, dim=1).view(-1, 1, 1)
        marked = grey < 0.7 * white  # darker than the plate's white: disc, lettering, lines
        rows = marked[:, 10 : text - 12, 8:56].float().mean(2)  # inside the plate's line
        assert (rows.max(1).values > 0.25).all(), "a disc up top (a blank plate marks at most 11% of a row)"
        assert (marked[:, text + 2 : 60, 12:52].float().mean((1, 2)) > 0.04).all(), "ZONE below it"
    drawn = draw_zone_blanks(6, 64, seed=2, ended=False)
    assert np.array_equal(drawn, draw_zone_blanks(6, 64, seed=2, ended=False)), "seeded"
    assert (drawn[:, 10 : round(ZONE_TEXT_TOP * 64) - 6, 20:44, :3] > 150).all(), "the disc's place is left white"


def test_init_takes_one_member_of_a_committee_and_refuses_what_does_not_fit():
    shipped = find_model_json(DEFAULT_MODEL)
    state, model_file = load_state(shipped)
    split, checksum = TrainConfig(model="signnet-stn").split, model_file.data_checksum
    member = initial_weights(f"{shipped}:1", "signnet-stn", split, checksum)
    assert member and all(torch.equal(value, state[f"members.1.{key}"]) for key, value in member.items())
    with pytest.raises(ModelFileError, match="name a member"):
        initial_weights(str(shipped), "signnet-stn", split, checksum)
    with pytest.raises(ModelFileError, match="not signnet"):
        initial_weights(f"{shipped}:0", "signnet", split, checksum)
    with pytest.raises(ModelFileError, match="other data"):
        initial_weights(f"{shipped}:0", "signnet-stn", split, "0" * 16)
    config = TrainConfig(model="signnet-stn", init=f"{shipped}:1", outlier_weight=0.5,
                         outliers=("background", "drawn"), photo_framing=0.4).to_dict()
    assert changed_settings(config) == ["--outlier-weight 0.5", "--photo-framing 0.4", f"--init {shipped}:1",
                                        "--outliers background,drawn"]


def test_model_card_names_the_views_a_recipe_used():
    from types import SimpleNamespace

    from traffic_signs.release.model_card import _photo_lines

    plain = TrainConfig(model="signnet-stn").to_dict()
    assert _photo_lines(SimpleNamespace(members=None), plain) == []
    photo = TrainConfig(model="signnet-stn", init="base.json:1", photo_framing=0.5, outlier_weight=1.0,
                        outliers=("background", "drawn")).to_dict()
    lines = _photo_lines(SimpleNamespace(members=None), photo)
    assert [line.split("`")[1] for line in lines] == ["--init FILE:K", "--photo-framing F",
                                                      "--outlier-weight W --outliers background,drawn"]
    assert "upside down" not in lines[2] and "Zone plates" in lines[2]
    for teach_on, named in (("all", "--teacher FILE --distill W"),
                            ("photos", "--teacher FILE --distill W --teach-on photos")):
        taught = TrainConfig(model="signnet-stn", distill=1.0, teacher="t.json", teach_on=teach_on).to_dict()
        assert [line.split("`")[1] for line in _photo_lines(SimpleNamespace(members=None), taught)] == [named]


def test_model_card_names_mirroring_where_a_member_used_it():
    from types import SimpleNamespace

    from traffic_signs.data.augment_config import AugmentConfig
    from traffic_signs.release.model_card import _mirror_lines

    plain = TrainConfig(model="signnet-stn").to_dict()
    assert _mirror_lines(SimpleNamespace(members=None), plain) == []
    mirrored = TrainConfig(model="signnet-stn", augment=AugmentConfig(mirror_prob=0.5)).to_dict()
    committee = SimpleNamespace(members=[SimpleNamespace(train_config=plain), SimpleNamespace(train_config=mirrored)])
    (line,) = _mirror_lines(committee, plain)
    assert line.startswith("- `--augment mirror_prob=0.5`") and "classes.MIRRORED" in line
