"""Fetch the GTSRB archives, checksummed, resumable, from the official site or a mirror.

A source is an http(s) URL, a ``file://`` URL or a local folder holding the archives
under their official names. Each file is fetched into ``NAME.part`` (resumed with an HTTP
Range request when a partial file is there), its md5 checked against the known releases,
and only then renamed into place, so a data folder never holds a half-downloaded or
unverified archive under its real name.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

from tqdm import tqdm

from traffic_signs.data.gtsrb import ARCHIVES_BY_NAME, OFFICIAL_BASE_URL, ArchiveFile
from traffic_signs.errors import ChecksumError, DataError
from traffic_signs.files import file_digest

# Which files make the dataset: one training archive (first one the source has) and the test pair.
TRAINING_CHOICES = ("GTSRB_Final_Training_Images.zip", "GTSRB-Training_fixed.zip")
OFFICIAL_TRAINING = "GTSRB-Training_fixed.zip"
TEST_FILES = ("GTSRB_Final_Test_Images.zip", "GTSRB_Final_Test_GT.zip")
CHUNK = 1 << 20


def verify(path: Path, archive: ArchiveFile) -> None:
    actual = file_digest(path, "md5")
    if actual not in archive.md5:
        raise ChecksumError(f"{path}: md5 {actual} matches no known release of {archive.filename} "
                            f"(expected one of {', '.join(archive.md5)})")


def _local_folder(source: str) -> Path | None:
    parsed = urlparse(source)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme in ("", None) or len(parsed.scheme) == 1:  # a plain path (or a Windows drive)
        return Path(source)
    return None


def _url(source: str, filename: str) -> str:
    return source.rstrip("/") + "/" + filename


def _exists(source: str, filename: str) -> bool:
    folder = _local_folder(source)
    if folder is not None:
        return (folder / filename).is_file()
    request = urllib.request.Request(_url(source, filename), method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=30):
            return True
    except (urllib.error.URLError, OSError):
        return False


def files_to_fetch(source: str) -> list[str]:
    """The training archive the source offers (official: the fixed one) and the test files."""
    if source.rstrip("/") == OFFICIAL_BASE_URL.rstrip("/"):
        return [OFFICIAL_TRAINING, *TEST_FILES]
    training = next((name for name in TRAINING_CHOICES if _exists(source, name)), None)
    if training is None:
        raise DataError(f"{source}: holds neither {' nor '.join(TRAINING_CHOICES)}")
    return [training, *TEST_FILES]


def _copy_local(src: Path, part: Path, progress: Callable[[int, int], None]) -> None:
    if not src.is_file():
        raise DataError(f"{src}: not found in the source folder")
    total = src.stat().st_size
    done = part.stat().st_size if part.exists() else 0
    with open(src, "rb") as reader, open(part, "ab") as writer:
        reader.seek(done)
        while block := reader.read(CHUNK):
            writer.write(block)
            done += len(block)
            progress(done, total)


def _fetch_http(url: str, part: Path, progress: Callable[[int, int], None]) -> None:
    done = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and done:  # the partial file is already complete
            return
        raise DataError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"{url}: cannot connect ({getattr(exc, 'reason', exc)})") from exc
    with response:
        resumed = response.status == 206
        mode = "ab" if resumed else "wb"  # a server that ignores Range sends everything again
        done = done if resumed else 0
        length = response.headers.get("Content-Length")
        total = done + int(length) if length and length.isdigit() else 0
        with open(part, mode) as writer:
            try:
                while block := response.read(CHUNK):
                    writer.write(block)
                    done += len(block)
                    progress(done, total)
            except (OSError, urllib.error.URLError) as exc:
                raise DataError(f"{url}: transfer interrupted after {done:,} bytes ({exc}); "
                                "run the command again to resume") from exc
    if total and done < total:
        raise DataError(f"{url}: transfer ended early ({done:,} of {total:,} bytes); run again to resume")


def download_file(source: str, filename: str, data_dir: Path, force: bool = False, show_progress: bool = True) -> Path:
    """Fetch one archive into ``data_dir`` and verify it; returns its final path."""
    archive = ARCHIVES_BY_NAME[filename]
    target = data_dir / filename
    if target.is_file() and not force:
        verify(target, archive)
        return target
    data_dir.mkdir(parents=True, exist_ok=True)
    part = target.with_name(filename + ".part")
    if force:
        part.unlink(missing_ok=True)
    bar = _progress_bar(filename, show_progress)
    folder = _local_folder(source)
    try:
        if folder is not None:
            _copy_local(folder / filename, part, bar)
        else:
            _fetch_http(_url(source, filename), part, bar)
    finally:
        bar.close()
    try:
        verify(part, archive)
    except ChecksumError:
        part.unlink(missing_ok=True)  # a wrong file must not be resumed next time
        raise
    part.replace(target)
    return target


class _progress_bar:
    """tqdm progress callable (a no-op when disabled)."""

    def __init__(self, name: str, enabled: bool):
        self.bar = tqdm(desc=name, unit="B", unit_scale=True, disable=not enabled, leave=False)

    def __call__(self, done: int, total: int) -> None:
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def download(data_dir: Path, source: str = OFFICIAL_BASE_URL, force: bool = False,
             show_progress: bool = True) -> list[Path]:
    """Fetch and verify every archive the dataset needs; returns their paths."""
    if _local_folder(source) is not None and not Path(_local_folder(source)).is_dir():
        raise DataError(f"{source}: no such folder")
    return [download_file(source, name, Path(data_dir), force, show_progress) for name in files_to_fetch(source)]
