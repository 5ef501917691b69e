"""Video frames: a tiny synthetic clip with a moving square is written, then read back."""

from __future__ import annotations

import numpy as np
import pytest

from infantpose.data import video
from infantpose.data.video import (
    Frame,
    VideoReadError,
    drop_near_duplicates,
    extract_frames,
    frame_difference,
    write_video,
)

FPS = 10
N_FRAMES = 20


def moving_square(n=N_FRAMES, size=(64, 48), still_from=None):
    """RGB frames with a white square moving right; frames from ``still_from`` on repeat."""
    w, h = size
    frames = []
    for i in range(n):
        step = i if still_from is None else min(i, still_from)
        image = np.zeros((h, w, 3), np.uint8)
        x = 2 + 2 * step
        image[16:32, x : x + 16] = 255
        frames.append(image)
    return frames


@pytest.fixture
def clip(tmp_path):
    return write_video(moving_square(), tmp_path / "clip.mp4", FPS)


def test_write_then_read_back_every_frame(clip):
    frames = extract_frames(clip, progress=False)
    assert len(frames) == N_FRAMES
    assert [f.index for f in frames] == list(range(N_FRAMES))
    assert np.allclose([f.timestamp_s for f in frames], np.arange(N_FRAMES) / FPS)
    assert frames[0].image.shape == (48, 64, 3)
    assert frames[0].image.dtype == np.uint8
    # The square moved right: its centre of mass goes up with the index.
    xs = [np.nonzero(f.image[..., 0] > 128)[1].mean() for f in frames]
    assert (np.diff(xs) > 0).all()


def test_every_n_fps_and_max_frames(clip):
    assert [f.index for f in extract_frames(clip, every_n=5, progress=False)] == [0, 5, 10, 15]
    by_rate = extract_frames(clip, fps=2.5, progress=False)
    assert [f.index for f in by_rate] == [0, 4, 8, 12, 16]
    assert np.allclose([f.timestamp_s for f in by_rate], [0, 0.4, 0.8, 1.2, 1.6])
    assert len(extract_frames(clip, fps=100, progress=False)) == N_FRAMES
    assert [f.index for f in extract_frames(clip, every_n=3, max_frames=2, progress=False)] == [
        0,
        3,
    ]
    with pytest.raises(ValueError, match="not both"):
        extract_frames(clip, fps=1, every_n=2)


def test_extract_to_folder_writes_jpegs(clip, tmp_path):
    out = tmp_path / "frames"
    frames = extract_frames(clip, out, every_n=4, progress=False)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        f"frame_{i:06d}.jpg" for i in (0, 4, 8, 12, 16)
    ]
    assert all(f.image is None and f.path.parent == out for f in frames)
    assert frames[1].load().shape == (48, 64, 3)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_interrupted_extraction_leaves_no_partial_folder(clip, tmp_path, monkeypatch):
    out = tmp_path / "frames"
    calls = []

    def failing_imwrite(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return True

    monkeypatch.setattr(video.cv2, "imwrite", failing_imwrite)
    with pytest.raises(KeyboardInterrupt):
        extract_frames(clip, out, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_missing_empty_and_garbage_videos_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.mp4.*Check the path"):
        extract_frames(tmp_path / "nope.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoReadError, match=r"empty\.mp4.*(codec|Re-encode)"):
        extract_frames(empty, progress=False)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 100)
    with pytest.raises(VideoReadError, match=r"garbage\.mp4"):
        extract_frames(garbage, progress=False)
    assert not (tmp_path / "out").exists()


def test_write_video_rejects_mixed_sizes_and_leaves_nothing(tmp_path):
    frames = moving_square(3) + moving_square(1, size=(32, 32))
    with pytest.raises(ValueError, match="one size"):
        write_video(frames, tmp_path / "bad.mp4", FPS)
    assert list(tmp_path.iterdir()) == []


def test_drop_near_duplicates_keeps_motion_and_drops_still_frames():
    images = moving_square(12, still_from=5)  # frames 5..11 are identical
    frames = [Frame(index=i, timestamp_s=i / FPS, image=im) for i, im in enumerate(images)]
    assert frame_difference(frames[6], frames[7]) == 0.0
    assert frame_difference(frames[0], frames[1]) > 0.01
    kept = drop_near_duplicates(frames, threshold=0.01)
    assert [f.index for f in kept] == [0, 1, 2, 3, 4, 5]
    assert len(drop_near_duplicates(frames, threshold=0.0)) == 12
    # Comparing with the last kept frame: a slow drift is thinned, not kept whole.
    assert len(drop_near_duplicates(frames[:6], threshold=0.05)) < 6
