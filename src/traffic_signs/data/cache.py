"""Decode a split once into uint8 arrays and keep them in a cache.

Decoding 50,000 small images costs seconds; loading the decoded arrays costs a fraction of
one. The cache key is derived from the checksums and sizes of the source files and the
model input size, so a changed archive or input size can never be served stale pixels.
Writes are atomic: a decode killed half way leaves no cache file behind.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs
from tqdm import tqdm

from traffic_signs.data.gtsrb import find_layout, resolve_data_dir
from traffic_signs.errors import DataError, ImageError, StorageError
from traffic_signs.files import atomic_writer, file_digest
from traffic_signs.imaging import load_for_model
from traffic_signs.settings import get_settings

CACHE_FORMAT = 1


@dataclass
class ImageSet:
    """A split held in memory: ``images`` is uint8 N x H x W x 3."""

    images: np.ndarray
    labels: np.ndarray  # int64 N
    tracks: np.ndarray  # str N; "" where the layout carries no track
    names: np.ndarray  # str N, the file each image came from
    checksum: str  # identifies the source files and preprocessing

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> ImageSet:
        return ImageSet(
            self.images[index], self.labels[index], self.tracks[index], self.names[index],
            self.checksum,
        )


def default_cache_dir() -> Path:
    """The ``cache_dir`` setting, else the user's cache folder."""
    return get_settings().cache_dir or Path(platformdirs.user_cache_dir("traffic-signs")) / "decoded"


def _fingerprint(path: Path) -> str:
    """md5 of a file, or of a folder's listing (names, sizes, mtimes)."""
    if path.is_file():
        return f"{path.name}:{path.stat().st_size}:{file_digest(path, 'md5')}"
    digest = hashlib.md5()
    for item in sorted(path.rglob("*")):
        if item.is_file():
            stat = item.stat()
            digest.update(f"{item.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return f"{path.name}/:{digest.hexdigest()}"


def load_split(
    split: str,
    data_dir: str | Path | None = None,
    size: int = 32,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> ImageSet:
    """Return ``split`` ("train" or "test") decoded at ``size`` x ``size``, cached on disk."""
    data_dir = resolve_data_dir(data_dir)
    layout = find_layout(data_dir, split)
    key_text = json.dumps(
        [CACHE_FORMAT, split, size, layout.kind, [_fingerprint(p) for p in layout.sources]]
    )
    checksum = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    cache_path = Path(cache_dir or default_cache_dir()) / f"{split}-{size}px-{checksum}.npz"
    if cache_path.is_file():
        try:
            return _read_cache(cache_path, checksum)
        except (OSError, ValueError, KeyError, EOFError):
            cache_path.unlink(missing_ok=True)  # damaged cache: decode again
    image_set = _decode(layout.list_records(), size, checksum, progress)
    try:
        _write_cache(cache_path, image_set)
    except StorageError as exc:  # the cache only saves time: say so and carry on without it
        print(f"warning: decoded images not cached ({exc})", file=sys.stderr)
    return image_set


def _decode(records: list, size: int, checksum: str, progress: bool) -> ImageSet:
    if not records:
        raise DataError("no images found")
    images = np.empty((len(records), size, size, 3), dtype=np.uint8)
    iterator = records
    if progress:
        iterator = tqdm(records, desc=f"decoding {len(records)} images", unit="img", leave=False)
    for i, record in enumerate(iterator):
        try:
            images[i] = load_for_model(record.read(), size)
        except ImageError as exc:
            raise DataError(f"{record.describe()}: {exc}") from exc
    return ImageSet(
        images,
        np.array([r.label for r in records], dtype=np.int64),
        np.array([r.track for r in records]),
        np.array([r.name for r in records]),
        checksum,
    )


def _read_cache(path: Path, checksum: str) -> ImageSet:
    with np.load(path, allow_pickle=False) as data:
        return ImageSet(data["images"], data["labels"], data["tracks"], data["names"], checksum)


def _write_cache(path: Path, image_set: ImageSet) -> None:
    with atomic_writer(path) as handle:
        np.savez(handle, images=image_set.images, labels=image_set.labels, tracks=image_set.tracks,
                 names=image_set.names)
