"""The HTTP API over a real uvicorn server on loopback, with real GTSRB images."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest

from loopback import serving
from traffic_signs import Classifier
from traffic_signs.prediction.decide import MAIN_SIGN_MARGIN
from traffic_signs.serving.api import Limits, create_app
from traffic_signs.settings import overridden


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


@contextmanager
def _serving(app) -> Iterator[str]:
    """``app`` on a real uvicorn server on loopback, as a base URL."""
    with serving(app) as (host, port):
        yield f"http://{host}:{port}"


@pytest.fixture(scope="module")
def base_url(classifier):
    with _serving(create_app(classifier, limits=Limits(max_request_bytes=2_000_000, max_files=4))) as url:
        yield url


@pytest.fixture(scope="module")
def real_signs(gtsrb_dir) -> list[tuple[bytes, int]]:
    with zipfile.ZipFile(gtsrb_dir / "GTSRB_Final_Test_GT.zip") as gt:
        rows = gt.read("GT-final_test.csv").decode().splitlines()[1:9]
    with zipfile.ZipFile(gtsrb_dir / "GTSRB_Final_Test_Images.zip") as images:
        return [(images.read(f"GTSRB/Final_Test/Images/{r.split(';')[0]}"), int(r.split(";")[-1])) for r in rows]


def test_health_ready_classes_model_docs(base_url):
    assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base_url}/readyz").json()["status"] == "ready"
    classes = httpx.get(f"{base_url}/v1/classes").json()
    assert len(classes) == 43 and classes[14]["label"] == "Stop"
    model = httpx.get(f"{base_url}/v1/model").json()
    assert "official test accuracy" in model["model_card"] and model["threshold"] > 0
    assert httpx.get(f"{base_url}/docs").status_code == 200
    assert "/v1/predict" in httpx.get(f"{base_url}/openapi.json").json()["paths"]


def test_predict_real_images(base_url, real_signs):
    files = [("files", (f"{i}.ppm", data, "image/x-portable-pixmap")) for i, (data, _) in enumerate(real_signs[:4])]
    response = httpx.post(f"{base_url}/v1/predict", files=files, params={"top_k": 3})
    assert response.status_code == 200
    results = response.json()
    assert [r["class_id"] for r in results] == [label for _, label in real_signs[:4]]
    assert all(len(r["top_k"]) == 3 for r in results)


def test_limits_and_bad_input_give_clean_json_errors(base_url, real_signs):
    data, _ = real_signs[0]
    too_many = [("files", (f"{i}.ppm", data)) for i in range(5)]
    assert httpx.post(f"{base_url}/v1/predict", files=too_many).status_code == 413
    huge = httpx.post(f"{base_url}/v1/predict", files=[("files", ("big.bin", b"0" * 2_100_000))])
    assert huge.status_code == 413 and "limit" in huge.json()["error"]
    junk = httpx.post(f"{base_url}/v1/predict", files=[("files", ("junk.png", b"not an image"))])
    assert junk.status_code == 415 and junk.json()["results"][0]["file"] == "junk.png"
    assert httpx.post(f"{base_url}/v1/predict").status_code == 422
    mixed = httpx.post(f"{base_url}/v1/predict", files=[("files", ("a.ppm", data)), ("files", ("b.png", b"xx"))])
    assert mixed.status_code == 200 and "error" in mixed.json()[1] and "class_id" in mixed.json()[0]
    bomb = io.BytesIO()
    bomb.write(b"P6\n100000 100000\n255\n")
    bombed = httpx.post(f"{base_url}/v1/predict", files=[("files", ("bomb.ppm", bomb.getvalue()))])
    assert bombed.status_code == 422 and "limit" in bombed.json()["results"][0]["error"]


def test_concurrent_requests_all_answer_correctly(base_url, real_signs):
    def ask(i: int) -> bool:
        data, label = real_signs[i % len(real_signs)]
        response = httpx.post(f"{base_url}/v1/predict", files=[("files", ("s.ppm", data))], timeout=30)
        return response.status_code == 200 and response.json()[0]["class_id"] == label

    with ThreadPoolExecutor(16) as pool:
        assert all(pool.map(ask, range(64)))
    assert httpx.get(f"{base_url}/healthz").status_code == 200


def test_every_sign_of_a_street_photo_comes_back(base_url):
    """A drawn street with three signs: one answer per file, with every sign boxed and named."""
    from pathlib import Path

    scene = Path(__file__).parent / "data" / "scenes" / "three_signs.jpg"
    response = httpx.post(f"{base_url}/v1/predict", files=[("files", ("street.jpg", scene.read_bytes()))])
    assert response.status_code == 200
    [result] = response.json()
    assert sorted(s["label"] for s in result["signs"]) == ["No entry", "Stop", "Yield"]
    confidences = [s["confidence"] for s in result["signs"]]
    assert confidences == sorted(confidences, reverse=True), "signs come most confident first"
    sure = [s for s in result["signs"] if s["confidence"] >= confidences[0] - MAIN_SIGN_MARGIN]
    main = max(sure, key=lambda s: (s["box"][2] - s["box"][0]) * (s["box"][3] - s["box"][1]))
    assert (result["label"], result["box"]) == (main["label"], main["box"]), "the top level is the main sign"


def test_openapi_declares_the_json_shapes(base_url):
    spec = httpx.get(f"{base_url}/openapi.json").json()
    shapes = spec["components"]["schemas"]
    declared = {"ResultJSON", "SignJSON", "RankedClass", "FileErrorJSON", "ErrorResponse", "SignClass", "ModelInfo"}
    assert declared <= shapes.keys()
    answers = spec["paths"]["/v1/predict"]["post"]["responses"]
    assert {"200", "413", "415", "422"} <= answers.keys()
    assert all(shapes[name]["additionalProperties"] is False for name in ("ResultJSON", "SignJSON", "FileErrorJSON"))
    assert "not required" not in shapes["ResultJSON"]["properties"]["box"].get("description", "")


def test_the_declared_shape_is_the_answer_itself(base_url):
    """/docs shows exactly the fields an answer has: the schema and the JSON come from one declaration."""
    spec = httpx.get(f"{base_url}/openapi.json").json()["components"]["schemas"]
    scene = Path(__file__).parent / "data" / "scenes" / "three_signs.jpg"
    [answer] = httpx.post(f"{base_url}/v1/predict", files=[("files", ("street.jpg", scene.read_bytes()))]).json()
    assert set(answer) == set(spec["ResultJSON"]["properties"]) and "box" not in spec["ResultJSON"]["required"]
    assert all(set(sign) == set(spec["SignJSON"]["properties"]) for sign in answer["signs"])
    assert set(answer["top_k"][0]) == set(spec["RankedClass"]["properties"])
    assert "calibrated" in spec["ResultJSON"]["properties"]["confidence"]["description"]


def test_unknown_answers_keep_class_id_null_and_uncropped_ones_have_no_box(base_url):
    blank = io.BytesIO()
    blank.write(b"P6\n48 48\n255\n" + bytes([128]) * 48 * 48 * 3)
    result = httpx.post(f"{base_url}/v1/predict", files=[("files", ("blank.ppm", blank.getvalue()))]).json()[0]
    assert result["unknown"] and result["class_id"] is None and "box" not in result


def test_limits_are_read_from_the_settings_when_the_app_is_made(classifier, real_signs):
    data, _ = real_signs[0]
    with overridden(max_files=1):
        app = create_app(classifier)
    with _serving(app) as url:
        two = httpx.post(f"{url}/v1/predict", files=[("files", ("a.ppm", data)), ("files", ("b.ppm", data))])
    assert two.status_code == 413 and "limit of 1" in two.json()["error"]


def test_a_model_that_fails_to_load_leaves_health_checks_answering(tmp_path):
    with _serving(create_app(model=str(tmp_path / "missing.json"))) as url:
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503 and "model not loaded" in ready.json()["error"]
        assert httpx.get(f"{url}/v1/classes").status_code == 503


def _clip(path: Path, sign: np.ndarray, label: int) -> bytes:
    """A real H.264 clip of one GTSRB sign approaching (tests/test_video.py draws it)."""
    from test_video import approach, write_clip

    return write_clip(path, approach(sign, label, frames=40)).read_bytes()


@pytest.fixture(scope="module")
def priority_road(classifier, test_set) -> tuple[np.ndarray, int]:
    for index in np.flatnonzero(test_set.labels == 12)[:20]:
        if int(classifier.probabilities(test_set.images[index][None]).argmax()) == 12:
            return test_set.images[index], 12
    raise AssertionError("no priority-road sign the classifier names alone")


def test_a_clip_comes_back_as_one_named_track(base_url, tmp_path, priority_road):
    pytest.importorskip("av")
    data = _clip(tmp_path / "drive.mp4", *priority_road)
    answer = httpx.post(f"{base_url}/v1/track", files={"file": ("drive.mp4", data)}, timeout=120)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert [t["class_id"] for t in result["tracks"]] == [12] and result["clip"]["decoded_frames"] == 40
    spec = httpx.get(f"{base_url}/openapi.json").json()["components"]["schemas"]
    assert set(result["tracks"][0]) == set(spec["TrackJSON"]["properties"]) and "ClipJSON" in spec


def test_a_clip_is_read_only_up_to_the_clip_limit(classifier, tmp_path, priority_road):
    pytest.importorskip("av")
    data = _clip(tmp_path / "drive.mp4", *priority_road)
    with _serving(create_app(classifier, limits=Limits(clip_seconds=0.5))) as url:
        result = httpx.post(f"{url}/v1/track", files={"file": ("drive.mp4", data)}, timeout=120).json()
    assert result["clip"]["stopped_at_limit"] and result["clip"]["decoded_frames"] <= 16


@pytest.mark.parametrize(("name", "data", "status"), [
    ("notes.mp4", b"not a video at all, only words", 415), ("empty.mp4", b"", 415),
    ("cut.mp4", b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00" * 64, 422),
])
def test_a_file_that_is_no_readable_clip_gets_a_clean_json_error(base_url, name, data, status):
    pytest.importorskip("av")
    answer = httpx.post(f"{base_url}/v1/track", files={"file": (name, data)}, timeout=60)
    assert answer.status_code == status and set(answer.json()) >= {"error", "status"}, answer.text
    assert httpx.post(f"{base_url}/v1/track", params={"stride": 0}, files={"file": (name, data)}).status_code == 422
