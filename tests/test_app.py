"""The Streamlit app's logic with Streamlit's AppTest, real images, the shipped model."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import traffic_signs
from traffic_signs.classes import CLASS_NAMES
from traffic_signs.prediction.crops import DEFAULT_MODEL
from traffic_signs.settings import overridden

APP = Path(traffic_signs.__file__).parent / "serving" / "app.py"


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def signs(many_signs) -> list[tuple[bytes, int]]:
    return many_signs[:2]


@pytest.fixture(scope="module")
def many_signs(gtsrb_dir) -> list[tuple[bytes, int]]:
    with zipfile.ZipFile(gtsrb_dir / "GTSRB_Final_Test_GT.zip") as gt:
        rows = gt.read("GT-final_test.csv").decode().splitlines()[1:41]
    with zipfile.ZipFile(gtsrb_dir / "GTSRB_Final_Test_Images.zip") as images:
        return [(_png(Image.open(io.BytesIO(images.read(f"GTSRB/Final_Test/Images/{r.split(';')[0]}")))),
                 int(r.split(";")[-1])) for r in rows]


def _app() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    return at


def test_page_loads_with_the_models_threshold():
    at = _app()
    assert at.title[0].value == "Traffic sign recognition"
    assert 0 < at.slider[0].value < 1


def test_uploaded_signs_are_named_and_junk_is_reported(signs):
    at = _app()
    files = [(f"sign{i}.png", data, "image/png") for i, (data, _) in enumerate(signs)]
    files.append(("blank.png", _png(Image.new("RGB", (48, 48), (128, 128, 128))), "image/png"))
    files.append(("junk.png", b"not an image at all", "image/png"))
    at.file_uploader[0].set_value(files)
    at.run()
    assert not at.exception
    verdicts = " ".join(s.value for s in at.success)
    for _, label in signs:
        assert CLASS_NAMES[label] in verdicts
    assert any("Unknown sign" in w.value for w in at.warning), "a blank picture is not a sign"
    assert any("junk.png" in e.value for e in at.error)
    assert len(at.image) >= 2 * 3  # picture and saliency overlay per readable upload


def _model_page_script():
    from traffic_signs.serving.app import model_page

    model_page()


def test_model_page_shows_card_figures_and_comparison():
    at = AppTest.from_function(_model_page_script, default_timeout=60)
    at.run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert f"# Model card: `{DEFAULT_MODEL}`" in text and "# Model comparison" in text
    assert len(at.image) >= 3  # confusion matrix, reliability diagram, risk-coverage curve


def test_shipped_comparison_is_the_published_one():
    root = Path(__file__).resolve().parents[1]
    shipped = Path(traffic_signs.__file__).parent / "shipped" / "COMPARISON.md"
    assert shipped.read_text() == (root / "results" / "compare" / "compare.md").read_text()


def test_no_model_box_unless_the_operator_allows_models():
    with overridden(app_models=()):
        at = _app()
    assert not at.sidebar.text_input and not at.sidebar.selectbox
    with overridden(app_models=(DEFAULT_MODEL, "/proc/1/root/etc")):
        at = _app()
        assert at.sidebar.selectbox[0].options == [DEFAULT_MODEL, "/proc/1/root/etc"]
        at.sidebar.selectbox[0].set_value("/proc/1/root/etc")
        at.run()
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "not available" in message and "Traceback" not in message and "/work" not in message


def test_every_spelling_of_a_model_shares_one_cache_entry(monkeypatch, tmp_path):
    from traffic_signs.serving.app import resolved_classifier

    monkeypatch.chdir(tmp_path)  # a name means runs/NAME where such a run exists: none here, so the shipped file

    shipped = Path(traffic_signs.__file__).parent / "shipped" / f"{DEFAULT_MODEL}.json"
    spellings = [DEFAULT_MODEL, str(shipped), str(shipped.parent / "." / "." / shipped.name)]
    assert len({id(resolved_classifier(name)) for name in spellings}) == 1


def _two_signs(signs: list[tuple[bytes, int]], sharp: int, blurred: int) -> bytes:
    """A street-sized picture of two GTSRB test signs, one sharp and one blurred (read less surely)."""
    picture = Image.new("RGB", (480, 240), (96, 120, 150))
    first, second = (Image.open(io.BytesIO(signs[i][0])).convert("RGB") for i in (sharp, blurred))
    picture.paste(first.resize((150, 150), Image.Resampling.BICUBIC), (30, 45))
    picture.paste(second.resize((10, 10)).resize((150, 150), Image.Resampling.BICUBIC), (300, 45))
    return _png(picture)


def test_the_threshold_slider_decides_every_sign_and_the_main_one_alike(many_signs):
    """The slider's threshold goes into the prediction itself: the verdict, the main sign and each sign's
    caption change together, exactly as the Python API answers at that threshold."""
    from traffic_signs import Classifier

    classifier = Classifier.load()
    for sharp, blurred in zip(range(0, 40, 2), range(1, 40, 2), strict=True):
        picture = _two_signs(many_signs, sharp, blurred)
        _, evidence = classifier.look(picture)
        whole, (low, high) = evidence.whole.confidence, sorted(box.confidence for box in evidence.boxes)[-2:]
        if len(evidence.boxes) == 2 and whole + 0.02 < low < high - 0.02:  # both signs surer than the picture
            break
    else:
        pytest.fail("no picture of two signs read with different confidences")
    below_both, between = round((whole + low) / 2, 3), round((low + high) / 2, 3)
    unknown_counts = []
    for threshold in (below_both, between):
        expected = classifier.predict(picture, threshold=threshold)
        at = _app()
        at.sidebar.slider[0].set_value(threshold)
        at.file_uploader[0].set_value([("street.png", picture, "image/png")])
        at.run()
        assert not at.exception
        captions = [m.value for m in at.markdown if m.value[:2] in ("1.", "2.")]
        assert len(captions) == 2
        assert sum("unknown sign" in c for c in captions) == sum(s.unknown for s in expected.signs)
        if expected.unknown:
            assert not at.success and "Unknown sign" in at.warning[0].value
        else:
            assert at.success[0].value.startswith(f"**{expected.label}**")
        unknown_counts.append(sum(s.unknown for s in expected.signs))
    assert unknown_counts == [0, 1], "the threshold moved the less sure sign's answer"


def test_an_uploaded_clip_plays_back_annotated_with_one_row_per_sign(classifier_and_sign_clip):
    """A real H.264 clip of one sign approaching: the annotated clip is shown, and the sign is one row."""
    data, label = classifier_and_sign_clip
    at = _app()
    at.file_uploader[0].set_value([("drive.mp4", data, "video/mp4")])
    at.run(timeout=120)
    assert not at.exception and not at.error
    rows = [m.value for m in at.markdown if CLASS_NAMES[label] in m.value]
    assert len(rows) == 1 and "frames" in rows[0], [m.value for m in at.markdown]
    assert any(element.type == "video" for element in at.main), "the annotated clip is shown"


def test_a_file_called_a_clip_that_is_none_gets_a_message(many_signs):
    at = _app()
    at.file_uploader[0].set_value([("drive.mp4", many_signs[0][0], "video/mp4")])  # a PNG, not a clip
    at.run(timeout=60)
    assert not at.exception and any("not a video" in e.value for e in at.error)


@pytest.fixture(scope="module")
def classifier_and_sign_clip(tmp_path_factory, test_set) -> tuple[bytes, int]:
    pytest.importorskip("av")
    from test_video import approach, write_clip
    from traffic_signs import Classifier

    classifier = Classifier.load()
    for index in np.flatnonzero(test_set.labels == 12)[:20]:
        if int(classifier.probabilities(test_set.images[index][None]).argmax()) == 12:
            path = tmp_path_factory.mktemp("clip") / "drive.mp4"
            return write_clip(path, approach(test_set.images[index], 12, frames=40)).read_bytes(), 12
    raise AssertionError("no priority-road sign the classifier names alone")
