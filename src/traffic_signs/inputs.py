"""Which files a user means: paths, folders (walked) and glob patterns, in the order given.

Shared by every command that reads the user's pictures. Folders and ``**`` globs are walked
without following symlinked folders, so a symlink loop cannot make a walk endless; what cannot
be read becomes an error entry, and the caller goes on with the rest.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from traffic_signs.imaging import IMAGE_SUFFIXES

Entry = tuple[str, str | None]  # a file to classify, or a path and why it cannot be


def expand_paths(patterns: list[str], suffixes: frozenset[str] = IMAGE_SUFFIXES) -> list[Entry]:
    """Files named directly, found in folders (recursively) or matched by globs, in order.

    Folders and ``**`` globs are walked without following symlinked folders (a symlink loop
    cannot make the walk endless); a folder or path that cannot be read becomes an error entry
    and the run goes on.
    """
    entries: list[Entry] = []
    for pattern in patterns:
        try:
            info = os.stat(pattern)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            entries.append((pattern, f"{pattern}: cannot read ({exc.strerror or exc})"))
            continue
        if info is not None and stat.S_ISDIR(info.st_mode):
            entries += _walk(pattern, lambda path: Path(path).suffix.lower() in suffixes)
        elif info is not None:
            entries.append((pattern, None))
        else:
            matches = _glob(pattern)
            entries += matches if matches else [(pattern, None)]  # a missing file is reported as an error
    return entries


def _walk(folder: str, wanted: Callable[[str], bool]) -> list[Entry]:
    files: list[str] = []
    problems: list[Entry] = []

    def unreadable(exc: OSError) -> None:
        where = exc.filename or folder
        problems.append((where, f"{where}: cannot read folder ({exc.strerror or exc})"))

    for root, dirs, names in os.walk(folder, onerror=unreadable):  # followlinks=False
        dirs.sort()
        files += [path for name in names if wanted(path := os.path.join(root, name))]
    return [(file, None) for file in sorted(files)] + problems


def _glob(pattern: str) -> list[Entry]:
    if "**" not in pattern:
        return [(match, None) for match in sorted(glob.glob(pattern))]
    pattern = os.path.normpath(pattern)
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base = str(Path(*parts[:fixed])) if fixed else "."
    if not os.path.isdir(base):
        return []
    matcher = re.compile(_glob_regex(pattern))
    entries = _walk(base, lambda path: matcher.fullmatch(os.path.normpath(path)) is not None)
    return [(os.path.normpath(path), problem) for path, problem in entries]


def _glob_regex(pattern: str) -> str:
    """A glob with ``**`` (any number of folders), ``*``, ``?`` and ``[...]`` as a regex on paths."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (close := pattern.find("]", i + 2)) > 0:
            members = pattern[i + 1 : close].replace("\\", "\\\\")
            out.append("[" + ("^" + members[1:] if members.startswith("!") else members) + "]")
            i = close + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)
