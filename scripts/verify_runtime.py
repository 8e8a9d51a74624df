"""Prove a (trimmed) serving environment works: the shipped model classifies a generated
sign-like picture through the Classifier, the API app is built, and the Streamlit page runs
an upload end to end (charts included) without an exception."""

import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

import traffic_signs
from traffic_signs import Classifier
from traffic_signs.serving.api import create_app

picture = Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8))
buffer = io.BytesIO()
picture.save(buffer, "PNG")
print(Classifier.load().predict(buffer.getvalue()).to_dict()["label"])
create_app()
app = AppTest.from_file(f"{traffic_signs.__path__[0]}/serving/app.py", default_timeout=120)
app.run()
app.file_uploader[0].set_value(("x.png", buffer.getvalue(), "image/png"))
app.run()
assert not app.exception, app.exception
assert app.warning or app.success
print("runtime verified")
