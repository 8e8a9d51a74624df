"""Streamlit web app: drop photos of traffic signs, see what the model reads and why.

Run with `traffic-signs serve app` (honours $PORT).

Visitors are strangers: the model is the operator's (the ``model`` setting, else the shipped
one); a model box appears only when the ``app_models`` setting lists the names a visitor may
choose from, and the page never shows a traceback or a server path.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import streamlit as st

from traffic_signs.errors import ImageError, TrafficSignsError
from traffic_signs.imaging import IMAGE_SUFFIXES, to_model_input
from traffic_signs.models.resolve import shipped_dir
from traffic_signs.prediction.crops import find_model_json
from traffic_signs.prediction.reader import Classifier
from traffic_signs.prediction.video import VIDEO_SUFFIXES, is_video_path
from traffic_signs.prediction.video_signs import annotate_clip
from traffic_signs.serving.saliency import heat_map, overlay
from traffic_signs.settings import get_settings

log = logging.getLogger(__name__)
MODELS_CACHED = 4  # each loaded model holds its ONNX session in memory


@st.cache_resource(show_spinner="Loading the model...", max_entries=MODELS_CACHED)
def load_classifier(model_json: str) -> Classifier:
    return Classifier.load(Path(model_json))


def allowed_models() -> list[str]:
    """The model names visitors may pick (the ``app_models`` setting); none by default."""
    return list(get_settings().app_models)


def chosen_model() -> str | None:
    """The operator's model, or the visitor's pick among the allowed names."""
    default = get_settings().model
    names = allowed_models()
    if not names:
        return default
    st.sidebar.header("Model")
    options = ([default] if default and default not in names else []) + names
    return st.sidebar.selectbox("Model", options, index=0) if options else default


def resolved_classifier(model: str | None) -> Classifier:
    """Load by resolved path, so every spelling of one file shares one cache entry; the page
    learns only the model's name, never where or why it failed on the server."""
    try:
        return load_classifier(str(find_model_json(model).resolve()))
    except TrafficSignsError as exc:
        log.error("model %r: %s", model, exc)
        raise TrafficSignsError(f"The model {model or 'shipped'!r} is not available.") from None


def sidebar() -> tuple[Classifier, float]:
    classifier = resolved_classifier(chosen_model())
    threshold = st.sidebar.slider("Unknown-sign threshold (calibrated confidence)", 0.0, 1.0,
                                  round(float(classifier.threshold), 3), 0.001, format="%.3f")
    st.sidebar.caption(f"`{classifier.name}`, temperature {classifier.temperature:.2f}; the default "
                       f"threshold was chosen on {classifier.threshold_source}, never below the one validation "
                       "sets for <= 0.2% error on signs (95% bound). Raise it to turn away more pictures that "
                       "are not signs.")
    return classifier, threshold


def show_prediction(classifier: Classifier, threshold: float, name: str, data: bytes) -> None:
    """One upload's verdict; a picture that breaks anything gets a short message, not a traceback."""
    try:
        show_verdict(classifier, threshold, name, data)
    except ImageError as exc:
        st.error(str(exc))
    except Exception:
        log.exception("classifying %r failed", name)
        st.error(f"{name}: this picture could not be classified.")


def show_verdict(classifier: Classifier, threshold: float, name: str, data: bytes) -> None:
    """Decoded once, read once at the slider's threshold: the picture, its boxes, the verdict and Grad-CAM."""
    result = classifier.predict(data, threshold=threshold, top_k=5, name=name)
    left, right = st.columns(2)
    left.image(result.plot(), caption=name, width="stretch")
    with right:
        if result.unknown:
            st.warning(f"**Unknown sign**: best guess {result.main.best_guess} at {result.confidence:.1%}, "
                       f"below the {threshold:.0%} threshold.")
        else:
            st.success(f"**{result.label}** ({result.confidence:.1%})")
        if len(result.signs) > 1:
            st.caption(f"{len(result.signs)} signs in this picture, most confident first:")
            for number, sign in enumerate(result.signs, 1):
                st.write(f"{number}. {sign.describe()}")
        top5_bars(result.top_k)
        crop_source = result.crop()
        crop = to_model_input(crop_source, classifier.input_size)
        heat, method = heat_map(classifier.model, crop, result.top_k[0]["class_id"])
        st.image(overlay(crop_source, heat), caption=f"{method}: red = what drove this answer", width=220)


def top5_bars(top_k: list[dict]) -> None:
    """The top-5 as horizontal bars (plain progress bars: no chart library needed at run time)."""
    st.caption("Top 5")
    for entry in top_k:
        st.progress(float(entry["probability"]), text=f"{entry['label']}: {entry['probability']:.1%}")


def classify_page() -> None:
    st.title("Traffic sign recognition")
    st.write("Upload photos of traffic signs (German signs: the 43 GTSRB classes), from a tight crop to a "
             "street scene. Every sign found is boxed and named; signs the model does not know are marked "
             "unknown.")
    try:
        classifier, threshold = sidebar()
    except TrafficSignsError as exc:
        st.error(str(exc))
        return
    except Exception:
        log.exception("loading the model failed")
        st.error("The model is not available.")
        return
    uploads = st.file_uploader("Images or clips", accept_multiple_files=True,
                               type=sorted(suffix[1:] for suffix in (*IMAGE_SUFFIXES, *VIDEO_SUFFIXES)))
    photo = st.camera_input("...or take a photo") if st.toggle("Use the camera") else None
    if st.toggle("Live camera: name signs as they pass"):
        live_camera(classifier, threshold)
    items = [(u.name, u.getvalue()) for u in uploads or []]
    if photo is not None:
        items.append(("camera", photo.getvalue()))
    for name, data in items:
        st.divider()
        if is_video_path(name):
            show_clip(classifier, threshold, name, data)
        else:
            show_prediction(classifier, threshold, name, data)


def live_camera(classifier: Classifier, threshold: float) -> None:
    """The camera streamed to the server (WebRTC), every sign boxed and named as it passes; below it,
    the signs in view and those named so far, refreshed while the camera plays."""
    try:  # here, not at the top: the live camera needs the video extra, the rest of the app does not
        from streamlit_webrtc import WebRtcMode, webrtc_streamer

        from traffic_signs.serving.live import LiveCamera
    except ImportError:
        st.info("The live camera needs the video extra: pip install 'traffic-signs[video]'.")
        return
    context = webrtc_streamer(
        key="live", mode=WebRtcMode.SENDRECV, video_processor_factory=lambda: LiveCamera(classifier, threshold),
        media_stream_constraints={"video": True, "audio": False}, async_processing=True,
        rtc_configuration={"iceServers": []})  # browser and server reach each other directly: no STUN needed
    shown = st.empty()
    while context.state.playing and context.video_processor is not None:
        in_view, passed = context.video_processor.names()
        shown.markdown(f"**In view:** {', '.join(in_view) or 'no sign'}  \n"
                       f"**Named so far:** {', '.join(passed) or 'none yet'}")
        time.sleep(0.5)


def show_clip(classifier: Classifier, threshold: float, name: str, data: bytes) -> None:
    """One uploaded clip: played back with every sign boxed and named, and one row per sign."""
    try:
        with st.spinner(f"Following the signs in {name}..."):
            tracks, annotated, thumbnails = read_clip(classifier, threshold, name, data)
    except TrafficSignsError as exc:  # not a clip this app reads, or clips are not installed
        st.error(str(exc))
        return
    except Exception:
        log.exception("tracking %r failed", name)
        st.error(f"{name}: this clip could not be read.")
        return
    st.video(annotated, format="video/mp4")
    st.caption(f"{len(tracks)} sign{'s' if len(tracks) != 1 else ''} in {name}, in the order they appeared:")
    for track in tracks:
        left, right = st.columns([1, 6])
        if track.track_id in thumbnails:
            left.image(thumbnails[track.track_id], width=64)
        verdict = f"{track.label} ({track.confidence:.1%})"  # the label says "unknown sign" when it is one
        right.write(f"**{verdict}**, {track.first_time_s:.1f}-{track.last_time_s:.1f} s, seen in {track.frames} frames")


def read_clip(classifier: Classifier, threshold: float, name: str, data: bytes):
    """Track the clip at the slider's threshold, then write it again annotated (H.264), within the
    API's clip limit (``clip_seconds``); the uploaded and annotated files are gone afterwards."""
    limit = get_settings().clip_seconds
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / f"upload{Path(name).suffix.lower()}", Path(folder) / "annotated.mp4"
        source.write_bytes(data)
        records = []
        run = classifier.track(source, threshold=threshold, max_seconds=limit, on_frame=records.append)
        tracks = sorted(run, key=lambda t: t.first_frame)
        thumbnails = annotate_clip(source, out, records, tracks, max_seconds=limit)
        return tracks, out.read_bytes(), thumbnails


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
    st.set_option("client.showErrorDetails", "none")  # no traceback reaches a visitor, however the app is run
    st.set_page_config(page_title="Traffic sign recognition", page_icon=":octagonal_sign:", layout="wide")
    navigation = st.navigation([st.Page(classify_page, title="Classify", default=True),
                                st.Page(model_page, title="Model card & metrics")])
    navigation.run()


if __name__ == "__main__":  # streamlit runs this file as __main__
    main()
