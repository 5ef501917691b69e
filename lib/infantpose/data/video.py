"""Frames from videos: extract (every n-th frame or at a target rate), write, de-duplicate.

Infant videos (home recordings, YouTube clips) are the raw material of a small labelled set:
extract frames, drop the near-identical ones, then pick a diverse subset
(:mod:`infantpose.data.selection`) for labelling (:mod:`infantpose.data.colabel`).

Decisions:

* Images are ``uint8`` RGB arrays ``(H, W, 3)`` everywhere in the package (OpenCV's BGR
  stays inside this module).
* A frame's timestamp is ``index / video_fps`` (the container's nominal rate), not the
  decoder's position, which some codecs report late or as 0.
* :func:`extract_frames` with ``out_dir`` writes the JPEGs into a temporary folder that
  replaces ``out_dir`` only when the extraction is complete (:func:`infantpose.io.atomic_dir`),
  so an interrupted extraction never leaves a half-filled folder. It replaces only a folder
  that an earlier extraction made: any other folder is refused, or with ``overwrite=True``
  moved aside, never deleted (hand labels and notes kept beside frames survive).
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..images import read_image
from ..io import atomic_dir, check_replaceable, clean_stale_temporaries, temp_prefix

__all__ = [
    "THUMBNAIL_SIZE",
    "Frame",
    "VideoReadError",
    "drop_near_duplicates",
    "extract_frames",
    "frame_difference",
    "load_frame_image",
    "write_video",
]

#: Side of the square grayscale thumbnail that :func:`frame_difference` compares.
THUMBNAIL_SIZE = 32


class VideoReadError(OSError):
    """A video that OpenCV cannot open or that yields no frame."""


@dataclass
class Frame:
    """One extracted frame: its index in the video, its time, and its pixels or file.

    ``image`` is a ``uint8`` RGB array when the frame is kept in memory; ``path`` is the
    JPEG file when it was written to disk (then ``image`` is ``None``).
    """

    index: int
    timestamp_s: float
    image: np.ndarray | None = None
    path: Path | None = None

    def load(self) -> np.ndarray:
        """The RGB pixels, read from ``path`` when not in memory."""
        return load_frame_image(self)


def load_frame_image(frame: Frame | np.ndarray | str | os.PathLike) -> np.ndarray:
    """RGB ``uint8`` pixels of a :class:`Frame`, an image array, or an image file (read whole by
    :func:`infantpose.images.read_image`: a truncated file is an error, never grey rows)."""
    if isinstance(frame, np.ndarray):
        return frame
    if isinstance(frame, Frame):
        if frame.image is not None:
            return frame.image
        if frame.path is None:
            raise ValueError(f"frame {frame.index} has neither image nor path")
        frame = frame.path
    return read_image(frame, mode="RGB")  # raises ImageReadError (an OSError) naming the file


# --------------------------------------------------------------------------- reading


def _open(video_path: Path) -> tuple[cv2.VideoCapture, float, int]:
    if not video_path.is_file():
        raise FileNotFoundError(
            f"video not found (or not a file): {video_path}. Check the path; relative paths are "
            f"relative to the working directory {Path.cwd()}"
        )
    capture = cv2.VideoCapture(os.fspath(video_path))
    if not capture.isOpened():
        capture.release()
        raise VideoReadError(
            f"OpenCV cannot open the video {video_path} (empty, truncated or an unsupported "
            "codec). Re-encode it, e.g. `ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4`, "
            "or check that the download is complete"
        )
    video_fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    return capture, video_fps, count


def _wanted(
    index: int, video_fps: float, fps: float | None, every_n: int | None, state: list[float]
) -> bool:
    if every_n is not None:
        return index % every_n == 0
    if fps is not None:
        # Keep the first frame at or after each multiple of 1/fps seconds.
        t = index / video_fps
        if t + 1e-9 >= state[0]:
            state[0] += 1.0 / fps
            while state[0] <= t:
                state[0] += 1.0 / fps
            return True
        return False
    return True


def extract_frames(
    video_path: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    fps: float | None = None,
    every_n: int | None = None,
    max_frames: int | None = None,
    jpeg_quality: int = 95,
    progress: bool = True,
    overwrite: bool = False,
) -> list[Frame]:
    """Read frames from a video with OpenCV: all of them, every ``every_n``-th, or ``fps`` per second.

    ``fps`` keeps the first frame at or after each multiple of ``1 / fps`` seconds (a rate
    above the video's keeps every frame); ``every_n`` keeps frames 0, n, 2n, …; give at most
    one. ``max_frames`` stops after that many kept frames. Without ``out_dir`` the frames
    hold RGB arrays; with it they are written as ``frame_{index:06d}.jpg`` into ``out_dir``
    (replaced as a whole, only once the extraction is complete) and hold their paths. An
    existing ``out_dir`` that no extraction made is refused unless ``overwrite=True``, which
    moves it aside (``NAME.replaced-<time>``) instead of deleting it.
    """
    video_path = Path(video_path)
    if fps is not None and every_n is not None:
        raise ValueError("extract_frames: give fps= or every_n=, not both")
    _check_number("fps", fps, integer=False, low=0.0)
    _check_number("every_n", every_n, integer=True, low=1)
    _check_number("max_frames", max_frames, integer=True, low=1)
    _check_number("jpeg_quality", jpeg_quality, integer=True, low=0, high=100)
    if out_dir is not None:
        check_replaceable(out_dir, overwrite=overwrite)  # before any decoding
    capture, video_fps, count = _open(video_path)
    if fps is not None and video_fps <= 0:
        capture.release()
        raise VideoReadError(
            f"{video_path}: the container reports no frame rate, so fps= cannot be honoured; "
            "use every_n= instead, or re-encode the video with a fixed rate"
        )
    rate = video_fps if video_fps > 0 else 1.0

    def read_all(target: Path | None) -> list[Frame]:
        from ..progress import progress_bar

        frames: list[Frame] = []
        state = [0.0]
        bar = progress_bar(
            total=count or None, desc=f"read {video_path.name}", unit="frame", enabled=progress
        )
        index = 0
        try:
            while max_frames is None or len(frames) < max_frames:
                ok, bgr = capture.read()
                if not ok:
                    break
                bar.update(1)
                if _wanted(index, rate, fps, every_n, state):
                    frame = Frame(index=index, timestamp_s=index / rate)
                    if target is None:
                        frame.image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                    else:
                        name = f"frame_{index:06d}.jpg"
                        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
                        if not cv2.imwrite(os.fspath(target / name), bgr, params):
                            raise OSError(f"cannot write {target / name} (disk full?)")
                        frame.path = Path(out_dir) / name  # the final location
                    frames.append(frame)
                index += 1
        finally:
            bar.close()
            capture.release()
        if index == 0:
            raise VideoReadError(
                f"{video_path}: OpenCV opened the video but decoded no frame (empty file or an "
                "unsupported codec). Re-encode it, e.g. `ffmpeg -i IN -c:v libx264 "
                "-pix_fmt yuv420p OUT.mp4`"
            )
        return frames

    if out_dir is None:
        return read_all(None)
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        return read_all(tmp)


def _check_number(
    name: str, value, *, integer: bool, low: float, high: float | None = None
) -> None:
    """Refuse a setting that would loop forever (``fps=inf``) or mean nothing (NaN, 2.5 frames)."""
    if value is None:
        return
    kind = numbers.Integral if integer else numbers.Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > low if name == "fps" else value >= low)
    ok = ok and (high is None or value <= high)
    if not ok:
        what = "an integer" if integer else "a finite number"
        bound = f"> {low:g}" if name == "fps" else f">= {low:g}"
        bound += f" and <= {high:g}" if high is not None else ""
        raise ValueError(f"extract_frames: {name} must be {what} {bound}, got {value!r}")


# --------------------------------------------------------------------------- writing


def write_video(
    frames: Iterable[Frame | np.ndarray | str | os.PathLike],
    path: str | os.PathLike,
    fps: float,
    *,
    fourcc: str = "mp4v",
) -> Path:
    """Write RGB frames (arrays, :class:`Frame`s or image files) as a video; atomic.

    All frames must share one size. The file is written next to ``path`` under a temporary
    name (with the same extension, which picks the container) and moved into place at the end.
    """
    path = Path(path)
    if fps <= 0:
        raise ValueError(f"write_video: fps must be > 0, got {fps}")
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(path)
    tmp_dir = Path(tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent))
    tmp = tmp_dir / path.name
    writer = None
    size = None
    n = 0
    try:
        for frame in frames:
            rgb = np.asarray(load_frame_image(frame))
            if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
                raise ValueError(
                    f"write_video: frame {n} has shape {rgb.shape} and dtype {rgb.dtype}; "
                    "expected uint8 RGB (H, W, 3)"
                )
            if writer is None:
                size = (rgb.shape[1], rgb.shape[0])
                writer = cv2.VideoWriter(
                    os.fspath(tmp), cv2.VideoWriter.fourcc(*fourcc), float(fps), size
                )
                if not writer.isOpened():
                    raise VideoReadError(
                        f"OpenCV cannot write {path} with codec {fourcc!r}; try fourcc='MJPG' "
                        "with an .avi file"
                    )
            elif (rgb.shape[1], rgb.shape[0]) != size:
                raise ValueError(
                    f"write_video: frame {n} is {rgb.shape[1]}×{rgb.shape[0]}, the first frame "
                    f"was {size[0]}×{size[1]}; resize the frames to one size"
                )
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            n += 1
        if writer is None:
            raise ValueError(f"write_video: no frames to write to {path}")
        writer.release()
        writer = None
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.release()
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return path


# --------------------------------------------------------------------------- de-duplication


def _thumbnail(frame: Frame | np.ndarray | str | os.PathLike) -> np.ndarray:
    rgb = load_frame_image(frame)
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (THUMBNAIL_SIZE, THUMBNAIL_SIZE), interpolation=cv2.INTER_AREA)
    return small.astype(np.float64) / 255.0


def frame_difference(a: Frame | np.ndarray, b: Frame | np.ndarray) -> float:
    """Mean absolute difference of 32×32 grayscale thumbnails, in [0, 1].

    Area-averaged thumbnails ignore JPEG noise and sensor grain; 0 means identical, 0.01 is
    a still scene, a moving infant is typically above 0.02, a cut is above 0.1.
    """
    return float(np.abs(_thumbnail(a) - _thumbnail(b)).mean())


def drop_near_duplicates(frames: Sequence[Frame], threshold: float = 0.02) -> list[Frame]:
    """Keep a frame only when it differs from the last *kept* frame by ``threshold`` or more.

    The measure is :func:`frame_difference` (mean absolute difference of 32×32 grayscale
    thumbnails, in [0, 1]). Comparing with the last kept frame, not the previous one, stops a
    slow drift from keeping every frame. The first frame is always kept; order is preserved.
    """
    if threshold < 0:
        raise ValueError(f"drop_near_duplicates: threshold must be >= 0, got {threshold}")
    kept: list[Frame] = []
    last = None
    for frame in frames:
        thumb = _thumbnail(frame)
        if last is None or float(np.abs(thumb - last).mean()) >= threshold:
            kept.append(frame)
            last = thumb
    return kept
