"""The one image reader: whole pixels, or an error naming the file (never grey padding)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile

from infantpose.images import ImageReadError, image_size, read_image


def _picture(height: int = 48, width: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur((rng.random((height, width, 3)) * 255).astype(np.uint8), (7, 7), 0)


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / "infant.jpg"
    cv2.imwrite(str(path), _picture())
    return path


def test_pixels_are_opencvs_for_an_intact_file(jpeg):
    bgr = cv2.imread(str(jpeg), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(read_image(jpeg, mode="BGR"), bgr)
    np.testing.assert_array_equal(read_image(jpeg), bgr[..., ::-1])
    assert read_image(jpeg, mode="L").shape == (48, 64)
    assert read_image(jpeg).flags.writeable
    assert image_size(jpeg) == (64, 48)


def test_a_16_bit_png_is_read_as_stored(tmp_path):
    depth = (np.arange(12, dtype=np.uint16) * 5000).reshape(3, 4)
    cv2.imwrite(str(tmp_path / "depth.png"), depth)
    np.testing.assert_array_equal(read_image(tmp_path / "depth.png", mode="unchanged"), depth)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_a_truncated_file_is_an_error_naming_it(tmp_path, suffix, keep):
    path = tmp_path / f"cut{suffix}"
    cv2.imwrite(str(path), _picture())
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    if suffix == ".jpg":
        assert cv2.imread(str(path)) is not None  # what the package used to accept, grey rows
    with pytest.raises(ImageReadError, match=rf"cut\{suffix}: cannot decode .*truncated"):
        read_image(path)


def test_truncation_is_caught_even_if_a_library_allows_it(jpeg, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    jpeg.write_bytes(jpeg.read_bytes()[:-60])
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(jpeg)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored for whoever set it


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, r"missing\.jpg: no such image file"),
        (lambda p: p.write_bytes(b""), r"missing\.jpg: the image file is empty"),
        (lambda p: p.write_text("not an image"), r"missing\.jpg: not an image format"),
        (lambda p: p.mkdir(), r"missing\.jpg is not a file"),
    ],
)
def test_missing_empty_and_foreign_files_name_the_file(tmp_path, make, message):
    path = tmp_path / "missing.jpg"
    make(path)
    with pytest.raises(ImageReadError, match=message):
        read_image(path)
    with pytest.raises(ImageReadError, match=message):
        image_size(path)


def test_a_decompression_bomb_is_refused(jpeg, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 64 × 48 is over 2 × 100
    with pytest.raises(ImageReadError, match=r"infant\.jpg: refused as a decompression bomb"):
        read_image(jpeg)


def test_an_unknown_mode_is_an_error(jpeg):
    with pytest.raises(ValueError, match="mode='rgb'"):
        read_image(jpeg, mode="rgb")


# --- every reader of the package goes through it -------------------------------------------


@pytest.fixture
def damaged_set(tmp_path):
    """A one-image COCO set whose JPEG lost its last rows (OpenCV would pad them grey)."""
    from infantpose.data.coco import annotation_record, image_record, make_coco

    folder = tmp_path / "images"
    folder.mkdir()
    path = folder / "train00001.jpg"
    cv2.imwrite(str(path), _picture(96, 128))
    path.write_bytes(path.read_bytes()[:-200])
    joints = np.zeros((17, 3))
    joints[:, 0], joints[:, 1], joints[:, 2] = np.linspace(20, 100, 17), np.linspace(20, 70, 17), 2
    coco = make_coco(
        [image_record(1, path.name, 128, 96)],
        [annotation_record(1, 1, joints, image_size=(128, 96))],
        image_root=folder,
    )
    return coco, path


def test_the_training_set_refuses_a_truncated_image(damaged_set):
    from infantpose.pose2d.dataset import PoseDataset

    coco, path = damaged_set
    dataset = PoseDataset(coco, input_size=(64, 64), augment=None, cache_images=False)
    with pytest.raises(ImageReadError, match=rf"{path.name}: cannot decode .*truncated"):
        dataset[0]


def test_loaders_frames_and_sessions_refuse_a_truncated_image(damaged_set):
    from infantpose.data.colabel import LabelingSession
    from infantpose.data.video import Frame, load_frame_image

    coco, path = damaged_set
    with pytest.raises(ImageReadError, match=path.name):
        coco.load_image(1)  # what the stand-in and real-set loaders hand to chapters and plots
    with pytest.raises(ImageReadError, match=path.name):
        Frame(index=0, timestamp_s=0.0, path=path).load()
    with pytest.raises(ImageReadError, match=path.name):
        load_frame_image(path)
    session = LabelingSession(path.parent / "session.json", [path])  # size from the header
    with pytest.raises(ImageReadError, match=path.name):
        session.load_image(0)


def test_the_labeling_widget_says_an_image_is_damaged(damaged_set):
    from infantpose.data.colabel import LabelingSession
    from infantpose.viz.colabel_widget import _image_or_blank

    _, path = damaged_set
    pixels, note = _image_or_blank(LabelingSession(path.parent / "session.json", [path]), 0)
    assert pixels.shape == (96, 128, 3) and (pixels == 200).all()
    assert "cannot be decoded (truncated or damaged)" in note and path.name in note


def test_masks_and_background_photos_refuse_a_truncated_file(tmp_path):
    from infantpose.data.minirgbd import _mask_box
    from infantpose.render.background import _load_photo

    mask = tmp_path / "mask_001.png"
    cv2.imwrite(str(mask), _picture()[..., 0])
    mask.write_bytes(mask.read_bytes()[:-200])
    with pytest.raises(ImageReadError, match=r"mask_001\.png"):
        _mask_box(mask)
    photo = tmp_path / "photo.jpg"
    cv2.imwrite(str(photo), _picture())
    photo.write_bytes(photo.read_bytes()[:-100])
    with pytest.raises(ImageReadError, match=r"photo\.jpg"):
        _load_photo(str(photo))
