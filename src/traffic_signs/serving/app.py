"""Streamlit web app: drop photos of traffic signs, see what the model reads and why.

Run with `traffic-signs serve app` (honours $PORT).
"""

from __future__ import annotations

import os

import streamlit as st
from PIL import ImageDraw

from traffic_signs.errors import ImageError, TrafficSignsError
from traffic_signs.imaging import open_image, to_model_input
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.prediction.classifier import Classifier
from traffic_signs.serving.saliency import heat_map, overlay


@st.cache_resource(show_spinner="Loading the model...")
def load_classifier(model: str | None) -> Classifier:
    return Classifier.load(model or None)


def sidebar() -> tuple[Classifier, float]:
    st.sidebar.header("Model")
    model = st.sidebar.text_input("Model (empty = shipped; or a run folder / .onnx path)",
                                  value=os.environ.get("TRAFFIC_SIGNS_MODEL", ""))
    classifier = load_classifier(model.strip() or None)
    threshold = st.sidebar.slider("Unknown-sign threshold (calibrated confidence)", 0.0, 1.0,
                                  round(float(classifier.threshold), 3), 0.001, format="%.3f")
    st.sidebar.caption(f"`{classifier.name}`, temperature {classifier.temperature:.2f}; the default "
                       "threshold was chosen on validation for <= 0.2% error on signs (95% bound). "
                       "Raise it to turn away more pictures that are not signs.")
    return classifier, threshold


def show_prediction(classifier: Classifier, threshold: float, name: str, data: bytes) -> None:
    try:
        picture = open_image(data, name)
    except ImageError as exc:
        st.error(str(exc))
        return
    prediction = classifier.predict(picture, top_k=5, name=name)
    verdict_unknown = prediction.confidence < threshold
    left, right = st.columns(2)
    shown = picture.copy()
    crop_source = picture
    if prediction.box:
        ImageDraw.Draw(shown).rectangle(prediction.box, outline=(255, 0, 0), width=max(2, shown.width // 150))
        crop_source = picture.crop(prediction.box)
    left.image(shown, caption=name, width="stretch")
    with right:
        if verdict_unknown:
            st.warning(f"**Unknown sign**: best guess {prediction.top_k[0]['label']} "
                       f"at {prediction.confidence:.1%}, below the {threshold:.0%} threshold.")
        else:
            st.success(f"**{prediction.top_k[0]['label']}** ({prediction.confidence:.1%})")
        top5_bars(prediction.top_k)
        crop = to_model_input(crop_source, classifier.input_size)
        heat, method = heat_map(classifier, crop, prediction.top_k[0]["class_id"])
        st.image(overlay(crop_source, heat), caption=f"{method}: red = what drove this answer", width=220)


def top5_bars(top_k: list[dict]) -> None:
    """The top-5 as horizontal bars (plain progress bars: no chart library needed at run time)."""
    st.caption("Top 5")
    for entry in top_k:
        st.progress(float(entry["probability"]), text=f"{entry['label']}: {entry['probability']:.1%}")


def classify_page() -> None:
    st.title("Traffic sign recognition")
    st.write("Upload photos of traffic signs (German signs: the 43 GTSRB classes). Large photos are "
             "searched for the sign; the red box shows where it was found.")
    try:
        classifier, threshold = sidebar()
    except TrafficSignsError as exc:
        st.error(str(exc))
        return
    uploads = st.file_uploader("Images", accept_multiple_files=True,
                               type=["png", "jpg", "jpeg", "ppm", "bmp", "gif", "tif", "tiff", "webp"])
    photo = st.camera_input("...or take a photo") if st.toggle("Use the camera") else None
    items = [(u.name, u.getvalue()) for u in uploads or []]
    if photo is not None:
        items.append(("camera", photo.getvalue()))
    for name, data in items:
        st.divider()
        show_prediction(classifier, threshold, name, data)


def model_page() -> None:
    st.title("The model")
    folder = shipped_dir()
    card = folder / "MODEL_CARD.md"
    if not card.is_file():
        st.info("No shipped model card found.")
        return
    for image in ("confusion_matrix.png", "reliability.png", "risk_coverage.png"):
        if (folder / image).is_file():
            st.image(str(folder / image), caption=image.removesuffix(".png").replace("_", " "))
    comparison = folder / "COMPARISON.md"
    if comparison.is_file():
        st.markdown(comparison.read_text())
    st.markdown(card.read_text())


def main() -> None:
    st.set_page_config(page_title="Traffic sign recognition", page_icon=":octagonal_sign:", layout="wide")
    navigation = st.navigation([st.Page(classify_page, title="Classify", default=True),
                                st.Page(model_page, title="Model card & metrics")])
    navigation.run()


if __name__ == "__main__":  # streamlit runs this file as __main__
    main()
