"""`traffic-signs download` against a real loopback HTTP server and a local folder."""

from __future__ import annotations

import http.server
import shutil
import threading
from functools import partial
from pathlib import Path

import pytest

from traffic_signs.cli import main
from traffic_signs.data.download import download, download_file
from traffic_signs.errors import ChecksumError, DataError
from traffic_signs.files import file_digest

GT = "GTSRB_Final_Test_GT.zip"


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with HTTP Range support (the stdlib handler lacks it); records ranges asked."""

    ranges: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        header = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not header or not path.is_file():
            return super().do_GET()
        self.ranges.append(header)
        start = int(header.removeprefix("bytes=").split("-")[0])
        data = path.read_bytes()
        if start >= len(data):
            self.send_error(416)
            return
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture()
def serve():
    servers = []

    def start(folder: Path) -> str:
        handler = partial(RangeHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_download_everything_over_http_then_read_it(tmp_path, gtsrb_dir, serve):
    url = serve(gtsrb_dir)
    assert main(["download", "--data-dir", str(tmp_path), "--source", url, "--no-progress"]) == 0
    for name in ("GTSRB_Final_Training_Images.zip", "GTSRB_Final_Test_Images.zip", GT):
        assert file_digest(tmp_path / name) == file_digest(gtsrb_dir / name)
    assert not list(tmp_path.glob("*.part"))
    # a second run verifies what is there instead of fetching again
    RangeHandler.ranges.clear()
    assert download(tmp_path, url, show_progress=False)


def test_partial_download_resumes_with_a_range_request(tmp_path, gtsrb_dir, serve):
    url = serve(gtsrb_dir)
    original = (gtsrb_dir / GT).read_bytes()
    (tmp_path / f"{GT}.part").write_bytes(original[:20_000])
    RangeHandler.ranges.clear()
    path = download_file(url, GT, tmp_path, show_progress=False)
    assert RangeHandler.ranges == ["bytes=20000-"]
    assert path.read_bytes() == original


def test_wrong_checksum_is_refused_and_deleted(tmp_path, gtsrb_dir, serve):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    tampered = bytearray((gtsrb_dir / GT).read_bytes())
    tampered[1000] ^= 0xFF
    (mirror / GT).write_bytes(bytes(tampered))
    url = serve(mirror)
    with pytest.raises(ChecksumError, match="md5"):
        download_file(url, GT, tmp_path / "data", show_progress=False)
    assert not (tmp_path / "data" / GT).exists()
    assert not (tmp_path / "data" / f"{GT}.part").exists()


def test_local_folder_and_file_url_sources(tmp_path, gtsrb_dir):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    shutil.copy(gtsrb_dir / GT, mirror / GT)
    assert download_file(str(mirror), GT, tmp_path / "a", show_progress=False).is_file()
    assert download_file(mirror.as_uri(), GT, tmp_path / "b", show_progress=False).is_file()


def test_missing_file_and_dead_server_give_clear_errors(tmp_path, serve):
    url = serve(tmp_path)  # serves an empty folder
    with pytest.raises(DataError, match="holds neither"):
        download(tmp_path / "data", url, show_progress=False)
    with pytest.raises(DataError, match="404"):
        download_file(url, GT, tmp_path / "data", show_progress=False)
    with pytest.raises(DataError, match="cannot connect"):
        download_file("http://127.0.0.1:9/", GT, tmp_path / "data", show_progress=False)
    assert main(["download", "--data-dir", str(tmp_path / "x"), "--source", str(tmp_path / "nowhere")]) == 2
