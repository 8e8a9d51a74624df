"""SignNet-STN: SignNet behind a spatial transformer that re-frames every crop first.

GTSRB crops vary in where the sign sits, how large it is, how it is turned and tilted; a
32x32 crop leaves a plain CNN few pixels to learn every framing from. A spatial transformer
(Jaderberg et al., 2015) is a small "localisation" network that looks at a coarse copy of the
crop, predicts an affine map, and resamples the crop through it, so the classifier behind it
sees signs centred, upright and at one scale. It is trained end to end by the classification
loss alone; it starts as the identity. Spatial transformers hold the single-CNN record on
GTSRB (Arcos-García et al., 2018: 99.71% at 48x48).

Cost: the localisation network works at 16, 8 and 4 pixels and adds about 3% to SignNet's
MACs and 22 k parameters. The resampling grid is built from elementwise ops (not
``affine_grid``) so it exports to ONNX opset 17 as plain arithmetic, and the resampling itself
as gathers (see ``affine_sample``).
Grad-CAM maps are computed in the re-framed crop, then resampled back into the input crop's
frame, so they sit over the pixels that drove the answer.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from traffic_signs.models.layers import Normalize
from traffic_signs.models.registry import register
from traffic_signs.models.signnet import SignNet, conv_bn

CAM_SIZE = 8  # side of the Grad-CAM maps in the input frame


def _pixel_centres(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y of every pixel centre in [-1, 1] coordinates (``align_corners=False``), size x size."""
    centres = (torch.arange(size, dtype=torch.float32) * 2 + 1) / size - 1
    ys, xs = torch.meshgrid(centres, centres, indexing="ij")
    return xs, ys


def affine_sample(images: torch.Tensor, theta: torch.Tensor, size: int, padding: str) -> torch.Tensor:
    """Resample ``images`` on a size x size grid: output point p reads input point theta @ (p, 1).

    Elementwise arithmetic, so bfloat16 autocast leaves the coordinates in float32. In an ONNX
    export the edge-repeating resample is written as four gathers (``gather_sample_border``)
    instead of ``GridSample``, which ONNX Runtime runs as a per-pixel loop: the same numbers, at
    about half the resampling's cost (docs/results.md, *Speed on 2 CPU cores*).
    """
    xs, ys = (c.to(images.device) for c in _pixel_centres(size))
    t = theta.float().view(-1, 6, 1, 1)
    grid = torch.stack([t[:, 0] * xs + t[:, 1] * ys + t[:, 2],
                        t[:, 3] * xs + t[:, 4] * ys + t[:, 5]], dim=-1)
    if padding == "border" and torch.onnx.is_in_onnx_export():
        return gather_sample_border(images.float(), grid)
    return F.grid_sample(images.float(), grid, mode="bilinear", padding_mode=padding, align_corners=False)


def gather_sample_border(images: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """``F.grid_sample(images, grid, "bilinear", padding_mode="border", align_corners=False)``
    written as arithmetic and four ``torch.gather`` calls on the flattened pixels, which export to
    ONNX ``GatherElements``: each output pixel is the weighted sum of the four input pixels around
    the point it reads, the point first clamped into the picture (what "border" means)."""
    n, c, h, w = images.shape
    out_h, out_w = grid.shape[1], grid.shape[2]
    x = (((grid[..., 0] + 1) * w - 1) / 2).clamp(0, w - 1).reshape(n, 1, -1)
    y = (((grid[..., 1] + 1) * h - 1) / 2).clamp(0, h - 1).reshape(n, 1, -1)
    x0, y0 = x.floor(), y.floor()
    wx, wy = x - x0, y - y0
    x0, y0 = x0.long(), y0.long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    pixels = images.reshape(n, c, h * w)

    def at(row: torch.Tensor, col: torch.Tensor) -> torch.Tensor:
        return torch.gather(pixels, 2, (row * w + col).expand(n, c, out_h * out_w))

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return (top * (1 - wy) + bottom * wy).reshape(n, c, out_h, out_w)


def inverse_affine(theta: torch.Tensor) -> torch.Tensor:
    """The inverse of N x 2 x 3 affine maps, N x 2 x 3 (closed form: exports as arithmetic)."""
    a, b, tx = theta[:, 0, 0], theta[:, 0, 1], theta[:, 0, 2]
    c, d, ty = theta[:, 1, 0], theta[:, 1, 1], theta[:, 1, 2]
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det
    return torch.stack([ia, ib, -(ia * tx + ib * ty), ic, id_, -(ic * tx + id_ * ty)], dim=1).view(-1, 2, 3)


class SpatialTransformer(nn.Module):
    """Looks at the crop at 16, 8 and 4 pixels and predicts the affine map to re-frame it."""

    def __init__(self, input_size: int = 32, hidden: int = 32):
        super().__init__()
        self.normalize = Normalize()
        self.localise = nn.Sequential(
            nn.MaxPool2d(2), conv_bn(3, 16),
            nn.MaxPool2d(2), conv_bn(16, 32),
            nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(32 * (input_size // 8) ** 2, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, 6),
        )
        nn.init.zeros_(self.localise[-1].weight)  # start as the identity map
        with torch.no_grad():
            self.localise[-1].bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))

    def theta(self, x: torch.Tensor) -> torch.Tensor:
        """N x 2 x 3 affine maps from output to input coordinates (both in [-1, 1])."""
        return self.localise(self.normalize(x)).float().view(-1, 2, 3)

    @staticmethod
    def reframe(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        """The crop resampled through ``theta`` at its own size, edges repeated where it looks outside."""
        return affine_sample(x, theta, x.shape[-1], padding="border")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reframe(x, self.theta(x))


class SignNetSTN(nn.Module):
    """A spatial transformer, then SignNet on the re-framed crop."""

    def __init__(self, widths: tuple[int, int, int, int], num_classes: int, convs_per_stage: int = 1):
        super().__init__()
        self.transform = SpatialTransformer()
        self.body = SignNet(widths, num_classes, convs_per_stage=convs_per_stage)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.transform(x))

    def class_activation_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and Grad-CAM maps (N x C x 8 x 8) in the input crop's frame.

        SignNet's closed-form maps live in the re-framed crop; each input position p is read
        from the re-framed point theta^-1 @ (p, 1), zero where the transformer looked away.
        """
        theta = self.transform.theta(x)
        logits, cams = self.body.class_activation_maps(self.transform.reframe(x, theta))
        return logits, to_input_frame(cams, theta)


def to_input_frame(maps: torch.Tensor, theta: torch.Tensor, size: int = CAM_SIZE) -> torch.Tensor:
    """Maps drawn in the transformer's output frame, resampled into its input frame."""
    return affine_sample(maps, inverse_affine(theta), size, padding="zeros")


_SOURCE = ("Designed for this product (traffic_signs/models/stn.py); spatial transformer after "
           "Jaderberg et al. 2015, as in Arcos-García et al. 2018.")


@register("signnet-stn", source=_SOURCE, ours=True)
def signnet_stn(num_classes: int) -> nn.Module:
    """SignNet-STN: a spatial transformer re-frames each crop, then SignNet (32-64-128-256) classifies it."""
    return SignNetSTN((32, 64, 128, 256), num_classes)


@register("signnet-stn-deep", source=_SOURCE, ours=True)
def signnet_stn_deep(num_classes: int) -> nn.Module:
    """SignNet-STN-Deep: the transformer, then SignNet with two convs at 32, 16 and 8 pixels (2.8x the MACs)."""
    return SignNetSTN((32, 64, 128, 256), num_classes, convs_per_stage=2)
