"""The spatial transformer's geometry: its sampling grid, its inverse, its starting point."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from traffic_signs.models.catalog import create
from traffic_signs.models.stn import affine_sample, gather_sample_border, inverse_affine, to_input_frame


def _random_affines(n: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.eye(2, 3) + 0.15 * torch.randn(n, 2, 3, generator=generator)


def test_affine_sample_matches_torch_affine_grid():
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    theta = _random_affines(4)
    expected = F.grid_sample(images, F.affine_grid(theta, list(images.shape), align_corners=False),
                             padding_mode="border", align_corners=False)
    torch.testing.assert_close(affine_sample(images, theta, 32, padding="border"), expected, atol=1e-5, rtol=0)


def test_gathered_resample_equals_grid_sample():
    """The exported graph's resampler reads the same numbers as ``F.grid_sample``'s, also where the
    map looks far outside the crop (edges repeated) and onto a grid of another size."""
    images = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    theta = torch.cat([_random_affines(4, seed=4), torch.tensor([[[2.5, 0.3, 1.2], [-0.4, 1.8, -1.5]],
                                                                  [[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]])])
    for size in (32, 20):
        grid = F.affine_grid(theta, [6, 3, size, size], align_corners=False)
        expected = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
        torch.testing.assert_close(gather_sample_border(images, grid), expected, atol=1e-5, rtol=0)


def test_exported_transformer_resamples_without_grid_sample(tmp_path):
    """The ONNX graph re-frames crops with gathers and gives torch's logits; the Grad-CAM graph
    beside it gives the same logits, and only it holds the maps' nodes."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    from traffic_signs.release.export import export_onnx

    model = create("signnet-stn").eval()
    with torch.no_grad():  # a transformer that moves, so the resampling is not the identity
        model.transform.localise[-1].bias.copy_(torch.tensor([0.9, 0.2, 0.1, -0.1, 1.1, -0.2]))
    path = tmp_path / "stn.onnx"
    cams_path = export_onnx(model, path, 32)
    assert cams_path == tmp_path / "stn.cams.onnx"
    graph, cams_graph = onnx.load(str(path)).graph, onnx.load(str(cams_path)).graph
    assert [output.name for output in graph.output] == ["logits"]
    assert [output.name for output in cams_graph.output] == ["logits", "cams"]
    assert len(graph.node) < len(cams_graph.node)
    assert not [node for node in graph.node if node.op_type == "GridSample"]
    resamplers = [node for node in cams_graph.node if node.op_type == "GridSample"]  # the maps carried back
    assert all(dict((a.name, a.s) for a in node.attribute)["padding_mode"] == b"zeros" for node in resamplers)
    images = torch.rand(5, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    logits = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        ["logits"], {"images": images.numpy()})[0]
    cams_logits = ort.InferenceSession(str(cams_path), providers=["CPUExecutionProvider"]).run(
        ["logits"], {"images": images.numpy()})[0]
    np.testing.assert_array_equal(logits, cams_logits)
    with torch.no_grad():
        np.testing.assert_allclose(logits, model(images).numpy(), atol=1e-4, rtol=0)


def test_inverse_affine_undoes_the_map():
    theta = _random_affines(8)
    square = torch.cat([theta, torch.tensor([0.0, 0.0, 1.0]).expand(8, 1, 3)], dim=1)
    inverse = torch.cat([inverse_affine(theta), torch.tensor([0.0, 0.0, 1.0]).expand(8, 1, 3)], dim=1)
    torch.testing.assert_close(square @ inverse, torch.eye(3).expand(8, 3, 3), atol=1e-5, rtol=0)


def test_untrained_transformer_is_the_identity():
    """Training starts from the plain crop: the localisation net's last layer predicts the identity."""
    model = create("signnet-stn").eval()
    images = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(model.transform(images), images, atol=1e-5, rtol=0)
        torch.testing.assert_close(model(images), model.body(images), atol=1e-5, rtol=0)


def test_maps_return_to_the_input_frame():
    """A map drawn in the re-framed crop and carried back lands where the transformer looked:
    a shift right by a quarter of the crop moves a one-hot map a quarter to the right."""
    shift = torch.tensor([[[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]]])  # output x reads input x + 0.5
    frame_map = torch.zeros(1, 1, 8, 8)
    frame_map[0, 0, 4, 2] = 1.0
    back = to_input_frame(frame_map, shift, size=8)
    assert back[0, 0].argmax().item() == 4 * 8 + 4  # two of eight columns = 0.5 in [-1, 1] units
    torch.testing.assert_close(to_input_frame(frame_map, torch.eye(2, 3)[None], size=8), frame_map)
