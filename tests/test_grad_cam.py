"""Grad-CAM from the torch-free runtime equals Grad-CAM computed with autograd."""

from __future__ import annotations

import numpy as np
import onnxruntime
import torch

from traffic_signs.models.io import load_model
from traffic_signs.models.stn import to_input_frame
from traffic_signs.prediction.reader import Classifier
from traffic_signs.serving.saliency import heat_map


def _autograd_grad_cam(model, image: np.ndarray, class_id: int) -> np.ndarray:
    """The textbook recipe: gradients of the class logit at the last conv stage, averaged.

    For a committee the last stage is all members' last stages side by side, and the logit
    is the mean of the members' logits. A member behind a spatial transformer draws its map
    in the re-framed crop; that map is carried back to the input crop's frame.
    """
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    members = list(model.members) if hasattr(model, "members") else [model]
    maps, logits = [], []
    for member in members:
        theta = member.transform.theta(x) if hasattr(member, "transform") else None
        body = member.body if theta is not None else member
        feature = body.features(x if theta is None else member.transform.reframe(x, theta))
        feature.retain_grad()
        pooled = torch.cat([feature.mean(dim=(2, 3)), feature.amax(dim=(2, 3))], dim=1)
        logits.append(body.classifier(pooled))
        maps.append((feature, theta))
    torch.stack(logits).mean(dim=0)[0, class_id].backward()
    weighted = 0
    for feature, theta in maps:
        cam = (feature.grad.mean(dim=(2, 3), keepdim=True) * feature).sum(dim=1, keepdim=True)
        weighted = weighted + (cam if theta is None else to_input_frame(cam, theta))
    cam = torch.relu(weighted)[0, 0].detach().numpy()
    return cam / cam.max() if cam.max() > 0 else cam


def test_shipped_grad_cam_matches_autograd(test_set):
    classifier = Classifier.load().model
    assert classifier.has_grad_cam
    model, _ = load_model(classifier.json_path)
    model.eval()
    for index in np.random.default_rng(0).choice(len(test_set), 8, replace=False):
        image = test_set.images[index]
        class_id = int(test_set.labels[index])
        onnx_map = classifier.grad_cam(image, class_id)
        assert onnx_map.ndim == 2 and onnx_map.min() >= 0 and onnx_map.max() == 1.0
        np.testing.assert_allclose(onnx_map, _autograd_grad_cam(model, image, class_id), atol=1e-4)


def test_heat_map_names_its_method(test_set):
    heat, method = heat_map(Classifier.load().model, test_set.images[0], int(test_set.labels[0]))
    assert method == "Grad-CAM" and heat.max() == 1.0


def test_spatial_transformer_grad_cam_matches_autograd(tmp_path, test_set):
    """A SignNet-STN whose transformer really moves the crop: its exported Grad-CAM, drawn in
    the re-framed crop and carried back, equals autograd's in the input crop's frame."""
    from traffic_signs.models.catalog import create
    from traffic_signs.release.export import export_onnx

    torch.manual_seed(0)
    model = create("signnet-stn").eval()
    with torch.no_grad():  # a transformer that rotates, scales and shifts, differently per image
        model.transform.localise[-1].weight.normal_(0, 0.2)
    session = onnxruntime.InferenceSession(str(export_onnx(model, tmp_path / "stn.onnx", 32)))
    images = test_set.images[:6]
    x = images.transpose(0, 3, 1, 2).astype(np.float32) / 255
    thetas = model.transform.theta(torch.from_numpy(x)).detach()
    assert (thetas - torch.eye(2, 3)).abs().amax(dim=(1, 2)).min() > 0.02, "the transformer should move the crop"
    logits, cams = session.run(None, {"images": x})
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(torch.from_numpy(x)).numpy(), atol=1e-4)
    for image, cam, class_id in zip(images, cams, logits.argmax(1), strict=True):
        heat = np.maximum(cam[class_id], 0)
        np.testing.assert_allclose(heat / heat.max(), _autograd_grad_cam(model, image, int(class_id)), atol=1e-4)
