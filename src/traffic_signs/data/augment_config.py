"""The settings of batch augmentation (see :mod:`traffic_signs.data.augment`), without torch.

A training recipe records them and the command line offers them, neither of which needs the
tensor code: keeping them apart lets ``traffic-signs --help`` and the torch-free runtime
image build every command's options.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# What web photos show that GTSRB's camera never did, one effect per image (see data.web_photos).
WEB_EFFECTS = ("watermark", "snow", "frost", "dirt", "sticker", "graffiti", "fade", "clipart", "jpeg",
               "thumbnail", "downscale")
# The settings that take names, not numbers (written NAME,NAME,... on the command line), and their choices.
NAMED_SETTINGS = {"web_effects": WEB_EFFECTS}


@dataclass(frozen=True)
class AugmentConfig:
    rotate_deg: float = 12.0
    scale: tuple[float, float] = (0.88, 1.12)
    shift: float = 0.08  # fraction of the image side
    shear_deg: float = 6.0
    perspective: float = 0.06
    brightness: float = 0.35  # multiply by a factor in [1 - b, 1 + b]
    contrast: float = 0.35
    saturation: float = 0.35
    blur_prob: float = 0.2
    noise_prob: float = 0.15
    noise_std: float = 0.04
    occlusion_prob: float = 0.2
    occlusion_size: tuple[float, float] = (0.1, 0.3)  # side of the patch, fraction of the image
    jpeg_prob: float = 0.0  # off by default: the shipped recipe draws no JPEG parameters
    jpeg_quality: tuple[float, float] = (8.0, 60.0)
    streak_prob: float = 0.0  # rain or snow; off by default like JPEG
    streak_density: tuple[float, float] = (0.005, 0.05)  # fraction of pixels that start a streak
    web_prob: float = 0.0  # share of images given one of web_effects; off by default like JPEG
    web_effects: tuple[str, ...] = WEB_EFFECTS  # chosen among uniformly, per image
    mirror_prob: float = 0.0  # share of the signs whose mirror image is a sign (classes.MIRRORED) mirrored

    def to_dict(self) -> dict:
        return asdict(self)


# What ``--outliers`` can draw as pictures of "no GTSRB sign" (see data.photo_views).
OUTLIER_KINDS = ("upside_down", "background", "fragment", "drawn", "lookalike", "zone", "designs")
# Which GTSRB signs ``--photo-framing`` draws cleanly (see data.drawn_signs.draw_signs and
# draw_every_class): speed limits and "No vehicles", "all" the plain geometry too, "every" class.
DRAWN_DESIGNS = ("speed", "all", "every")

# The second view that ``--consistency`` trains on: every corruption on, and stronger.
HARSH = AugmentConfig(blur_prob=0.3, noise_prob=0.4, noise_std=0.25, occlusion_prob=0.3,
                      jpeg_prob=0.3, streak_prob=0.3)
