"""Dataset readers on small synthetic archives: every layout, odd sizes, broken files."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from traffic_signs.data.cache import load_split
from traffic_signs.data.split import track_split
from traffic_signs.errors import DataError


def test_official_zip_with_odd_sizes(tmp_path, synthetic):
    synthetic.official_zip(tmp_path / "GTSRB_Final_Training_Images.zip")
    data = load_split("train", tmp_path, 32, tmp_path / "cache")
    assert data.images.shape == (12, 32, 32, 3) and data.images.dtype == np.uint8
    assert sorted(set(data.labels.tolist())) == [0, 5]
    assert set(data.tracks) == {"00/00000", "00/00001", "05/00000", "05/00001"}
    again = load_split("train", tmp_path, 32, tmp_path / "cache")  # from the cache
    assert np.array_equal(again.images, data.images) and again.checksum == data.checksum


def test_extracted_official_layout_reads_the_same(tmp_path, synthetic):
    (tmp_path / "a").mkdir()
    synthetic.official_zip(tmp_path / "a" / "GTSRB_Final_Training_Images.zip")
    with zipfile.ZipFile(tmp_path / "a" / "GTSRB_Final_Training_Images.zip") as archive:
        archive.extractall(tmp_path / "b")
    zipped = load_split("train", tmp_path / "a", 32, tmp_path / "cache")
    extracted = load_split("train", tmp_path / "b", 32, tmp_path / "cache")
    assert np.array_equal(zipped.images, extracted.images)
    assert np.array_equal(zipped.labels, extracted.labels)


def test_kaggle_layout(tmp_path, synthetic):
    rows = ["Width,Height,Roi.X1,Roi.Y1,Roi.X2,Roi.Y2,ClassId,Path"]
    for i, c in enumerate([3, 3, 7]):
        rel = f"Train/{c}/{c:05d}_00000_{i:05d}.png"
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(synthetic.image_bytes(synthetic.ODD_SIZES[i], "PNG", i))
        rows.append(f"30,30,1,1,5,5,{c},{rel}")
    (tmp_path / "Train.csv").write_text("\n".join(rows) + "\n")
    data = load_split("train", tmp_path, 32, tmp_path / "cache")
    assert data.labels.tolist() == [3, 3, 7] and data.tracks.tolist() == ["03/00000", "03/00000", "07/00000"]


def test_folder_per_class(tmp_path, synthetic):
    for c in (1, 2):
        (tmp_path / "train" / str(c)).mkdir(parents=True)
        (tmp_path / "train" / str(c) / "a.jpg").write_bytes(synthetic.image_bytes((40, 60), "JPEG", c))
    data = load_split("train", tmp_path, 32, tmp_path / "cache")
    assert sorted(data.labels.tolist()) == [1, 2]


@pytest.mark.parametrize("bad_row,message", [
    ("99999_00000.ppm;32;32;1;1;5;5;5", "listed but missing"),
    ("00000_00000.ppm;32;32;1;1;5;5;77", "outside 0..42"),
    ('"' + "x" * 200_000 + '";32;32;1;1;5;5;5', r"line 8: malformed CSV"),
])
def test_bad_csv_rows_name_the_file(tmp_path, bad_row, message, synthetic):
    synthetic.official_zip(tmp_path / "GTSRB_Final_Training_Images.zip", bad_row=bad_row)
    with pytest.raises(DataError, match=message) as error:
        load_split("train", tmp_path, 32, tmp_path / "cache")
    assert "GT-00005.csv" in str(error.value)


def test_zip_bomb_member_is_refused_before_inflating(tmp_path):
    with zipfile.ZipFile(tmp_path / "GTSRB_Final_Training_Images.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GTSRB/Final_Training/Images/00000/GT-00000.csv", b"0;" * 4_000_000)
    with pytest.raises(DataError, match=r"GT-00000.csv: compressed .* to 1, above the 100:1 limit"):
        load_split("train", tmp_path, 32, tmp_path / "cache")


def test_truncated_zip_and_missing_data(tmp_path, synthetic):
    synthetic.official_zip(tmp_path / "full.zip")
    data = (tmp_path / "full.zip").read_bytes()
    (tmp_path / "GTSRB_Final_Training_Images.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="GTSRB_Final_Training_Images.zip"):
        load_split("train", tmp_path, 32, tmp_path / "cache")
    with pytest.raises(DataError, match="no such folder"):
        load_split("train", tmp_path / "nowhere", 32, tmp_path / "cache")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no GTSRB test data"):
        load_split("test", tmp_path / "empty", 32, tmp_path / "cache2")


def test_undecodable_image_leaves_no_cache_behind(tmp_path, synthetic):
    (tmp_path / "train" / "4").mkdir(parents=True)
    (tmp_path / "train" / "4" / "good.png").write_bytes(synthetic.image_bytes((20, 20), "PNG", 0))
    (tmp_path / "train" / "4" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    with pytest.raises(DataError, match="bad.png"):
        load_split("train", tmp_path, 32, tmp_path / "cache")
    leftovers = list((tmp_path / "cache").glob("*")) if (tmp_path / "cache").exists() else []
    assert leftovers == []


def test_real_split_never_shares_a_track(train_set):
    train_index, val_index = track_split(train_set.labels, train_set.tracks)
    assert not set(train_set.tracks[train_index]) & set(train_set.tracks[val_index])
    assert len(set(train_set.labels[val_index])) == 43
    tracks = len(set(train_set.tracks))
    assert abs(len(set(train_set.tracks[val_index])) - 0.1 * tracks) < 0.02 * tracks
    again = track_split(train_set.labels, train_set.tracks)
    assert np.array_equal(again[1], val_index)
    assert not np.array_equal(track_split(train_set.labels, train_set.tracks, seed=1)[1], val_index)
