"""The GTSRB dataset: where its files live, what is inside them, and how to read them.

Three layouts are understood, zipped or extracted:

* the official archives (``GTSRB_Final_Training_Images.zip`` or ``GTSRB-Training_fixed.zip``,
  ``GTSRB_Final_Test_Images.zip`` and ``GTSRB_Final_Test_GT.zip``);
* the Kaggle layout (``Train/``, ``Test/``, ``Train.csv``, ``Test.csv`` with a ``Path`` column);
* a plain folder per class (``<root>/<class id>/*.png``), for training data of your own.

Reading returns :class:`Record` rows; :mod:`traffic_signs.data.cache` decodes them once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import platformdirs

from traffic_signs.classes import NUM_CLASSES
from traffic_signs.data.sources import FileTree
from traffic_signs.errors import DataError
from traffic_signs.imaging import IMAGE_SUFFIXES
from traffic_signs.settings import get_settings, variable_name

OFFICIAL_BASE_URL = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"


@dataclass(frozen=True)
class ArchiveFile:
    """One downloadable file of the dataset and the checksums it may legitimately have."""

    filename: str
    role: str  # "train", "test_images" or "test_labels"
    md5: tuple[str, ...]  # official release first, then known re-packagings (the 32x32 copy)


ARCHIVES: tuple[ArchiveFile, ...] = (
    ArchiveFile(
        "GTSRB-Training_fixed.zip", "train", ("513f3c79a4c5141765e10e952eaa2478",)
    ),
    ArchiveFile(
        "GTSRB_Final_Training_Images.zip",
        "train",
        ("f33fd80ac59bff73c82d25ab499e03a3", "927be6a4b7b9ff8b41fbf981413d28d1"),
    ),
    ArchiveFile(
        "GTSRB_Final_Test_Images.zip",
        "test_images",
        ("c7e4e6327067d32654124b0fe9e82185", "ea9b2953a7c4779c1c9d780377b5a1cf"),
    ),
    ArchiveFile(
        "GTSRB_Final_Test_GT.zip",
        "test_labels",
        ("fe31e9c9270bbcd7b84b7f21a9d9d9e5", "42457cfc2aee206c0f5ffa21c22ae840"),
    ),
)
ARCHIVES_BY_NAME = {a.filename: a for a in ARCHIVES}
SPLITS = ("train", "test")


def default_data_dir() -> Path:
    """The ``data_dir`` setting, else the user's cache folder."""
    return get_settings().data_dir or Path(platformdirs.user_cache_dir("traffic-signs")) / "gtsrb"


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    return Path(data_dir).expanduser() if data_dir else default_data_dir()


@dataclass(frozen=True)
class Record:
    """One labelled image inside a :class:`FileTree`."""

    tree: FileTree
    name: str
    label: int
    track: str  # images of one physical sign share a track; "" when the layout has none

    def read(self) -> bytes:
        return self.tree.read(self.name)

    def describe(self) -> str:
        return self.tree.describe(self.name)


@dataclass
class Layout:
    """What was found in a data folder: the trees that hold a split and how to list it."""

    kind: str
    sources: list[Path]
    list_records: Callable[[], list[Record]]


def find_layout(data_dir: Path, split: str) -> Layout:
    """Detect which of the supported layouts ``data_dir`` holds for ``split``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise DataError(
            f"{data_dir}: no such folder. Run `traffic-signs download --data-dir {data_dir}` "
            f"or point --data-dir / ${variable_name('data_dir')} at the GTSRB archives."
        )
    finders = (_official_layout, _kaggle_layout, _class_folder_layout)
    for finder in finders:
        layout = finder(data_dir, split)
        if layout is not None:
            return layout
    raise DataError(
        f"{data_dir}: no GTSRB {split} data found. Expected the official archives "
        "(GTSRB_Final_Training_Images.zip or GTSRB-Training_fixed.zip, GTSRB_Final_Test_Images.zip, "
        "GTSRB_Final_Test_GT.zip, zipped or extracted), the Kaggle layout (Train.csv, Test.csv) "
        "or one folder per class id."
    )


# --- official archives -------------------------------------------------------------------

_TRAIN_CSV = re.compile(r"(?:^|/)(\d{5})/GT-(\d{5})\.csv$")
_TRACK = re.compile(r"^(\d{5})_(\d{5})\.\w+$")


def _first_existing(data_dir: Path, candidates: tuple[str, ...]) -> Path | None:
    for name in candidates:
        if (data_dir / name).exists():
            return data_dir / name
    return None


def _official_layout(data_dir: Path, split: str) -> Layout | None:
    if split == "train":
        source = _first_existing(
            data_dir,
            (
                "GTSRB_Final_Training_Images.zip",
                "GTSRB-Training_fixed.zip",
                "GTSRB/Final_Training/Images",
                "GTSRB/Training",
            ),
        )
        if source is None:
            return None
        return Layout("official", [source], lambda: _official_train(FileTree(source)))
    images = _first_existing(data_dir, ("GTSRB_Final_Test_Images.zip", "GTSRB/Final_Test/Images"))
    labels = _first_existing(data_dir, ("GTSRB_Final_Test_GT.zip", "GT-final_test.csv"))
    if images is None:
        return None
    if labels is None:
        raise DataError(
            f"{data_dir}: found the test images but not their labels "
            "(GTSRB_Final_Test_GT.zip or GT-final_test.csv)"
        )
    return Layout("official", [images, labels], lambda: _official_test(images, labels))


def _read_csv(tree: FileTree, name: str) -> list[dict[str, str]]:
    text = tree.read(name).decode("utf-8-sig", errors="replace")
    delimiter = ";" if text.count(";") >= text.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows: list[dict[str, str]] = []
    line = 1
    try:
        for row in reader:
            rows.append(row)
            line = reader.line_num + 1  # where the next record starts
    except csv.Error as exc:  # e.g. a field beyond csv's size limit
        raise DataError(f"{tree.describe(name)} line {line}: malformed CSV ({exc})") from None
    if not rows:
        raise DataError(f"{tree.describe(name)}: CSV file has no rows")
    return rows


def _column(row: dict[str, str], name: str, where: str) -> str:
    value = row.get(name)
    if value is None:
        raise DataError(f"{where}: CSV has no {name!r} column (columns: {', '.join(row)})")
    return value.strip()


def _label(value: str, where: str) -> int:
    try:
        label = int(value)
    except ValueError:
        raise DataError(f"{where}: class id {value!r} is not a number") from None
    if not 0 <= label < NUM_CLASSES:
        raise DataError(f"{where}: class id {label} is outside 0..{NUM_CLASSES - 1}")
    return label


def _official_train(tree: FileTree) -> list[Record]:
    csvs = [n for n in tree.names() if _TRAIN_CSV.search(n)]
    if not csvs:
        raise DataError(f"{tree.root}: no GT-000NN.csv files inside; is this the training archive?")
    records = []
    for csv_name in sorted(csvs):
        folder = str(PurePosixPath(csv_name).parent)
        for line, row in enumerate(_read_csv(tree, csv_name), start=2):
            where = f"{tree.describe(csv_name)} line {line}"
            filename = _column(row, "Filename", where)
            name = f"{folder}/{filename}"
            if name not in tree:
                raise DataError(f"{where}: image {filename} is listed but missing ({tree.describe(name)})")
            match = _TRACK.match(filename)
            label = _label(_column(row, "ClassId", where), where)
            track = f"{label:02d}/{match.group(1)}" if match else ""
            records.append(Record(tree, name, label, track))
    return records


def _official_test(images: Path, labels: Path) -> list[Record]:
    image_tree = FileTree(images)
    label_tree = FileTree(labels.parent) if labels.suffix == ".csv" else FileTree(labels)
    csv_names = [n for n in label_tree.names() if n.endswith("GT-final_test.csv")]
    if not csv_names:
        raise DataError(f"{labels}: GT-final_test.csv not found inside")
    by_filename = {PurePosixPath(n).name: n for n in image_tree.names() if not n.endswith(".csv")}
    records = []
    for line, row in enumerate(_read_csv(label_tree, csv_names[0]), start=2):
        where = f"{label_tree.describe(csv_names[0])} line {line}"
        filename = _column(row, "Filename", where)
        if filename not in by_filename:
            raise DataError(f"{where}: image {filename} is listed but missing from {images}")
        label = _label(_column(row, "ClassId", where), where)
        records.append(Record(image_tree, by_filename[filename], label, ""))
    return records


# --- Kaggle layout -----------------------------------------------------------------------

_KAGGLE_TRACK = re.compile(r"(\d+)_(\d{5})_(\d{5})\.\w+$")


def _kaggle_layout(data_dir: Path, split: str) -> Layout | None:
    csv_path = data_dir / ("Train.csv" if split == "train" else "Test.csv")
    if not csv_path.is_file():
        return None
    return Layout("kaggle", [csv_path], lambda: _kaggle_records(data_dir, csv_path))


def _kaggle_records(data_dir: Path, csv_path: Path) -> list[Record]:
    tree = FileTree(data_dir)
    records = []
    for line, row in enumerate(_read_csv(tree, csv_path.name), start=2):
        where = f"{csv_path} line {line}"
        name = _column(row, "Path", where).replace("\\", "/")
        if name not in tree:
            raise DataError(f"{where}: image {name} is listed but missing ({tree.describe(name)})")
        label = _label(_column(row, "ClassId", where), where)
        match = _KAGGLE_TRACK.search(name)
        track = f"{label:02d}/{match.group(2)}" if match else ""
        records.append(Record(tree, name, label, track))
    return records


# --- one folder per class ----------------------------------------------------------------

def _class_folder_layout(data_dir: Path, split: str) -> Layout | None:
    root = data_dir / split if (data_dir / split).is_dir() else data_dir
    if split == "test" and root == data_dir:
        return None  # a bare class tree is training data; a test split needs its own folder
    class_dirs = [p for p in root.iterdir() if p.is_dir() and p.name.isdigit()]
    if not class_dirs:
        return None
    return Layout("folders", [root], lambda: _folder_records(root))


def _folder_records(root: Path) -> list[Record]:
    tree = FileTree(root)
    records = []
    for name in tree.names():
        path = PurePosixPath(name)
        if path.suffix.lower() not in IMAGE_SUFFIXES or len(path.parts) < 2:
            continue
        label = _label(path.parts[0], tree.describe(name))
        match = _TRACK.match(path.name) or _KAGGLE_TRACK.search(path.name)
        track = f"{label:02d}/{match.groups()[-2]}" if match else ""
        records.append(Record(tree, name, label, track))
    if not records:
        raise DataError(f"{root}: class folders hold no images")
    return records


def iter_records(data_dir: Path, split: str) -> Iterator[Record]:
    yield from find_layout(data_dir, split).list_records()
