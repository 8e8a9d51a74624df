"""`traffic-signs predict` and the Python API on the shipped model, with real GTSRB images."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from traffic_signs import Classifier
from traffic_signs.cli import main
from traffic_signs.errors import ImageError

SAMPLES = 12


@pytest.fixture(scope="module")
def samples(gtsrb_dir) -> list[tuple[Image.Image, int]]:
    """Real official-test images with their labels, straight from the archives."""
    with zipfile.ZipFile(gtsrb_dir / "GTSRB_Final_Test_GT.zip") as gt:
        rows = gt.read("GT-final_test.csv").decode().splitlines()[1 : SAMPLES + 1]
    out = []
    with zipfile.ZipFile(gtsrb_dir / "GTSRB_Final_Test_Images.zip") as images:
        for row in rows:
            name, *_, label = row.split(";")
            image = Image.open(io.BytesIO(images.read(f"GTSRB/Final_Test/Images/{name}")))
            out.append((image.convert("RGB"), int(label)))
    return out


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


def test_python_api_reads_real_signs(classifier, samples):
    right = sum(classifier.predict(image).class_id == label for image, label in samples)
    assert right >= SAMPLES - 1


@pytest.mark.parametrize("fmt,mode", [("PNG", "RGB"), ("PNG", "RGBA"), ("PNG", "LA"), ("PNG", "P"), ("PNG", "I;16"),
                                      ("JPEG", "RGB"), ("JPEG", "CMYK"), ("PPM", "RGB"), ("BMP", "RGB"),
                                      ("WEBP", "RGB"), ("GIF", "P"), ("TIFF", "RGB")])
def test_every_format_and_mode_decodes(tmp_path, classifier, samples, fmt, mode):
    image = samples[0][0].resize((64, 64))
    converted = image.convert("L").convert("I;16") if mode == "I;16" else image.convert(mode)
    path = tmp_path / f"sign.{fmt.lower()}"
    converted.save(path, fmt)
    result = classifier.predict(path)
    assert 0 <= result.confidence <= 1 and len(result.top_k) == 5
    if mode in ("RGB", "RGBA", "CMYK") and fmt != "GIF":
        assert result.top_k[0]["class_id"] == samples[0][1]


def test_exif_orientation_is_applied(tmp_path, classifier, samples):
    image, label = samples[1]
    big = image.resize((96, 96))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    big.rotate(90, expand=True).save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    assert classifier.predict(tmp_path / "rotated.jpg").top_k[0]["class_id"] == label


def test_cli_json_folder_glob_and_a_broken_file(tmp_path, capsys, samples):
    for i, (image, _) in enumerate(samples[:3]):
        image.save(tmp_path / f"sign{i}.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert main(["predict", str(tmp_path), "--format", "json", "--top-k", "3"]) == 1
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 4
    broken = [r for r in results if "error" in r]
    assert len(broken) == 1 and broken[0]["file"].endswith("broken.png")
    for r in results:
        if "error" not in r:
            assert set(r) - {"box"} == {"file", "class_id", "label", "confidence", "unknown", "top_k", "signs"}
            assert ("box" in r) == bool(r["signs"])
            assert len(r["top_k"]) == 3
    assert main(["predict", str(tmp_path / "sign*.png"), "--format", "csv"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4  # header + 3 rows


def test_blank_and_noise_images_are_unknown(classifier):
    rng = np.random.default_rng(0)
    blank = Image.new("RGB", (64, 64), (128, 128, 128))
    noise = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    assert classifier.predict(blank).unknown
    assert classifier.predict(noise).unknown
    assert classifier.predict(blank).class_id is None


def test_large_photo_is_searched_and_the_box_found(classifier, samples):
    image, label = samples[2]
    scene = Image.new("RGB", (640, 480), (70, 90, 60))
    scene.paste(image.resize((120, 120)), (420, 260))
    result = classifier.predict(scene)
    assert result.box is not None and result.class_id == label
    x0, y0, x1, y1 = result.box
    overlap = max(0, min(x1, 540) - max(x0, 420)) * max(0, min(y1, 380) - max(y0, 260))
    union = (x1 - x0) * (y1 - y0) + 120 * 120 - overlap
    assert overlap / union > 0.3
    assert classifier.predict(scene, search=False).box is None


def test_unreadable_input_raises_a_clear_error(classifier, tmp_path):
    with pytest.raises(ImageError, match="not an image"):
        classifier.predict(b"definitely not an image", name="junk")
    with pytest.raises(ImageError, match="cannot read"):
        classifier.predict(tmp_path / "missing.png")


def _street(image: Image.Image) -> Image.Image:
    scene = Image.new("RGB", (640, 480), (70, 90, 60))
    scene.paste(image.resize((120, 120)), (420, 260))
    return scene


def test_cli_draws_the_signs_it_found_on_pictures(tmp_path, capsys, samples):
    """--annotate: one picture to the file named, several into a folder (names kept apart), and a
    bad target or a clip-only option refused before any work, with nothing written."""
    from traffic_signs.prediction.results import NAMED_COLOUR

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        _street(samples[2][0]).save(tmp_path / folder / "street.png")
    assert main(["predict", str(tmp_path / "a" / "street.png"), "--annotate", str(tmp_path / "one.png")]) == 0
    drawn = np.asarray(Image.open(tmp_path / "one.png").convert("RGB"))
    assert drawn.shape == (480, 640, 3)
    assert (drawn == NAMED_COLOUR).all(axis=2).sum() > 500  # the named sign's box and label
    assert "annotated: 1 picture" in capsys.readouterr().err

    assert main(["predict", str(tmp_path / "a"), str(tmp_path / "b"), "--annotate", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["street-2.jpg", "street.jpg"]

    for bad, message in [(["--annotate", str(tmp_path / "two.png")], "go into a folder"),
                         (["--annotate", str(tmp_path / "x.gif")], "write a picture as"),
                         (["--stride", "2"], "only for clips"), (["--frames-jsonl", str(tmp_path / "f.jsonl")],
                                                                 "only for clips")]:
        assert main(["predict", str(tmp_path / "a"), str(tmp_path / "b"), *bad]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "two.png").exists() and not (tmp_path / "f.jsonl").exists()


def test_a_label_wider_than_the_picture_is_drawn_smaller():
    from PIL import ImageDraw

    from traffic_signs.prediction.results import _font_within

    draw = ImageDraw.Draw(Image.new("RGB", (200, 100)))
    text = "3. unknown sign (best guess Right-of-way at the next intersection, 15.7%)"
    assert draw.textlength(text, font=_font_within(draw, text, 40, 1000)) > 200  # room: the size asked for
    assert draw.textlength(text, font=_font_within(draw, text, 40, 200, smallest=4)) <= 200
