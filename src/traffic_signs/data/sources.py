"""Uniform read access to a zip archive or an extracted folder.

GTSRB ships as zips but people often unpack them; the layout inside is the same either way,
so the readers in :mod:`traffic_signs.data.gtsrb` walk a :class:`FileTree` and never care
which of the two they hold.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from traffic_signs.errors import DataError

# The largest member of the official archives is a few MB (a GT CSV); a member declaring more
# than this, or a large one compressed far beyond what images and CSVs compress, is refused.
MAX_MEMBER_BYTES = 256 * 2**20
MAX_RATIO = 100
RATIO_CHECK_BYTES = 2**20


class FileTree:
    """Files under a root, addressed by POSIX-style relative names."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._zip: zipfile.ZipFile | None = None
        if self.root.is_file():
            try:
                self._zip = zipfile.ZipFile(self.root)
            except (zipfile.BadZipFile, OSError) as exc:
                raise DataError(f"{self.root}: not a readable zip archive ({exc})") from exc
            self._names = [n for n in self._zip.namelist() if not n.endswith("/")]
        elif self.root.is_dir():
            self._names = sorted(
                p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()
            )
        else:
            raise DataError(f"{self.root}: no such file or folder")
        self._name_set = set(self._names)

    def __repr__(self) -> str:
        return f"FileTree({str(self.root)!r})"

    def names(self) -> list[str]:
        return self._names

    def __contains__(self, name: str) -> bool:
        return name in self._name_set

    def describe(self, name: str) -> str:
        """Human-readable location of ``name``, used in error messages."""
        return f"{self.root}!{name}" if self._zip else str(self.root / name)

    def read(self, name: str) -> bytes:
        if name not in self._name_set:
            raise DataError(f"{self.describe(name)}: missing")
        try:
            if self._zip is not None:
                self._check_member(name)
                return self._zip.read(name)
            return (self.root / name).read_bytes()
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as exc:
            raise DataError(f"{self.describe(name)}: cannot be read ({exc})") from exc
        except Exception as exc:  # zlib.error and friends from a damaged archive
            raise DataError(f"{self.describe(name)}: damaged archive member ({exc})") from exc

    def _check_member(self, name: str) -> None:
        """Refuse a zip bomb before inflating it: the member's declared size (which bounds what
        zipfile will inflate) and, for large members, its compression ratio."""
        assert self._zip is not None
        info = self._zip.getinfo(name)
        if info.file_size > MAX_MEMBER_BYTES:
            raise DataError(f"{self.describe(name)}: {info.file_size:,} bytes uncompressed, above the "
                            f"{MAX_MEMBER_BYTES:,}-byte limit per archive member")
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > RATIO_CHECK_BYTES and ratio > MAX_RATIO:
            raise DataError(f"{self.describe(name)}: compressed {ratio:,.0f} to 1, above the {MAX_RATIO}:1 "
                            "limit (a zip bomb?)")

    def find(self, suffix: str) -> list[str]:
        """Names whose path ends with ``suffix`` (a path tail such as ``Final_Test/Images``)."""
        return [n for n in self._names if PurePosixPath(n).as_posix().endswith(suffix)]

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> FileTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
