"""Where the model looks, computed with the torch-free runtime.

Grad-CAM (Selvaraju et al., 2017) when the exported graph carries it (our SignNet models
compute it in closed form in their forward pass, see ``SignNet.class_activation_maps``;
SignNet-STN carries it back through its spatial transformer).
Other models fall back to occlusion sensitivity (Zeiler and Fergus, 2014), which needs only
forward passes: grey out one patch at a time and measure how much the predicted class's
probability drops; all patches go through the model in one batch.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from traffic_signs.prediction.crops import CropClassifier

PATCH, STRIDE = 8, 4


def heat_map(classifier: CropClassifier, crop: np.ndarray, class_id: int) -> tuple[np.ndarray, str]:
    """A 0..1 map of what drove ``class_id`` for ``crop``, and the method's name."""
    if classifier.has_grad_cam:
        return classifier.grad_cam(crop, class_id), "Grad-CAM"
    return occlusion_map(classifier, crop, class_id), "occlusion sensitivity"


def occlusion_map(classifier: CropClassifier, crop: np.ndarray, class_id: int) -> np.ndarray:
    """Probability drop per pixel (0..1) for uint8 S x S x 3 ``crop`` and class ``class_id``."""
    size = crop.shape[0]
    positions = [(y, x) for y in range(0, size - PATCH + 1, STRIDE) for x in range(0, size - PATCH + 1, STRIDE)]
    batch = np.repeat(crop[None], len(positions) + 1, axis=0)
    for i, (y, x) in enumerate(positions, start=1):
        batch[i, y : y + PATCH, x : x + PATCH] = 128
    probs = classifier.probabilities(batch)[:, class_id]
    heat = np.zeros((size, size), np.float64)
    hits = np.zeros((size, size), np.float64)
    for drop, (y, x) in zip(np.clip(probs[0] - probs[1:], 0, None), positions, strict=True):
        heat[y : y + PATCH, x : x + PATCH] += drop
        hits[y : y + PATCH, x : x + PATCH] += 1
    heat /= np.maximum(hits, 1)
    return heat / heat.max() if heat.max() > 0 else heat


def overlay(image: Image.Image, heat: np.ndarray, alpha: float = 0.5) -> Image.Image:
    """The heat map in red over ``image`` (resized to it)."""
    heat_image = Image.fromarray((heat * 255).astype(np.uint8)).resize(image.size, Image.Resampling.BILINEAR)
    red = np.zeros((image.height, image.width, 3), np.uint8)
    red[..., 0] = 255
    mask = (np.asarray(heat_image, np.float32) / 255.0 * alpha)[..., None]
    blended = np.asarray(image.convert("RGB"), np.float32) * (1 - mask) + red * mask
    return Image.fromarray(blended.astype(np.uint8))
