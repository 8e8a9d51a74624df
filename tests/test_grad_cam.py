"""Grad-CAM from the torch-free runtime equals Grad-CAM computed with autograd."""

from __future__ import annotations

import numpy as np
import torch

from traffic_signs.models.io import load_model
from traffic_signs.prediction.classifier import Classifier
from traffic_signs.serving.saliency import heat_map


def _autograd_grad_cam(model, image: np.ndarray, class_id: int) -> np.ndarray:
    """The textbook recipe: gradients of the class logit at the last conv stage, averaged.

    For a committee the last stage is all members' last stages side by side, and the logit
    is the mean of the members' logits.
    """
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    members = list(model.members) if hasattr(model, "members") else [model]
    features = [member.features(x) for member in members]
    logits = []
    for member, feature in zip(members, features, strict=True):
        feature.retain_grad()
        pooled = torch.cat([feature.mean(dim=(2, 3)), feature.amax(dim=(2, 3))], dim=1)
        logits.append(member.classifier(pooled))
    torch.stack(logits).mean(dim=0)[0, class_id].backward()
    weighted = sum((f.grad.mean(dim=(2, 3), keepdim=True) * f).sum(dim=1) for f in features)
    cam = torch.relu(weighted)[0].detach().numpy()
    return cam / cam.max() if cam.max() > 0 else cam


def test_shipped_grad_cam_matches_autograd(test_set):
    classifier = Classifier.load()
    assert classifier.has_grad_cam
    model, _ = load_model(classifier.json_path)
    model.eval()
    for index in np.random.default_rng(0).choice(len(test_set), 8, replace=False):
        image = test_set.images[index]
        class_id = int(test_set.labels[index])
        onnx_map = classifier.grad_cam(image, class_id)
        assert onnx_map.shape == (4, 4) and onnx_map.min() >= 0 and onnx_map.max() == 1.0
        np.testing.assert_allclose(onnx_map, _autograd_grad_cam(model, image, class_id), atol=1e-4)


def test_heat_map_names_its_method(test_set):
    heat, method = heat_map(Classifier.load(), test_set.images[0], int(test_set.labels[0]))
    assert method == "Grad-CAM" and heat.max() == 1.0
