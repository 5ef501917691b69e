"""Write the tiny dataset fixtures under tests/data/ (run from the repository root).

    python tests/data/make_fixtures.py

The files are committed; this script only documents how they were made and remakes them
byte for byte with the pinned numpy/Pillow/OpenCV. It writes each format by hand, from the
published layouts described in tests/data/README.md, and imports nothing from infantpose:
a fixture made by the code under test would only test that the code agrees with itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent

COCO_KEYPOINTS = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip
COCO_SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
PERSON = {
    "supercategory": "person",
    "id": 1,
    "name": "person",
    "keypoints": COCO_KEYPOINTS,
    "skeleton": COCO_SKELETON,
}

# An infant lying on its back, seen from above: SMIL/SMPL joints in the camera frame
# (x right, y down the image, z away from the camera), metres, pelvis at the origin. The
# infant's left is on the image's right. MINI-RGBD adds the nose as a 25th joint.
INFANT_SMPL24 = {
    "pelvis": (0.00, 0.05, 0.00),
    "left_hip": (0.05, 0.06, 0.00),
    "right_hip": (-0.05, 0.06, 0.00),
    "spine1": (0.00, 0.00, 0.00),
    "left_knee": (0.07, 0.16, -0.04),
    "right_knee": (-0.07, 0.16, -0.04),
    "spine2": (0.00, -0.05, 0.00),
    "left_ankle": (0.06, 0.26, 0.00),
    "right_ankle": (-0.06, 0.26, 0.00),
    "spine3": (0.00, -0.09, 0.00),
    "left_foot": (0.06, 0.29, -0.03),
    "right_foot": (-0.06, 0.29, -0.03),
    "neck": (0.00, -0.14, 0.00),
    "left_collar": (0.03, -0.13, 0.00),
    "right_collar": (-0.03, -0.13, 0.00),
    "head": (0.00, -0.20, -0.01),
    "left_shoulder": (0.08, -0.13, 0.00),
    "right_shoulder": (-0.08, -0.13, 0.00),
    "left_elbow": (0.14, -0.06, 0.01),
    "right_elbow": (-0.14, -0.06, 0.01),
    "left_wrist": (0.16, 0.02, -0.02),
    "right_wrist": (-0.16, 0.02, -0.02),
    "left_hand": (0.17, 0.05, -0.02),
    "right_hand": (-0.17, 0.05, -0.02),
}
NOSE = (0.00, -0.21, -0.05)
LIMBS = [
    ("pelvis", "spine1"), ("spine1", "spine2"), ("spine2", "spine3"), ("spine3", "neck"),
    ("neck", "head"), ("pelvis", "left_hip"), ("pelvis", "right_hip"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_foot"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("right_ankle", "right_foot"),
    ("neck", "left_collar"), ("left_collar", "left_shoulder"), ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"), ("left_wrist", "left_hand"), ("neck", "right_collar"),
    ("right_collar", "right_shoulder"), ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"), ("right_wrist", "right_hand"),
]  # fmt: skip


def _fresh(name: str) -> Path:
    root = HERE / name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    return root


def _write_json(path: Path, data, indent: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent) + "\n", encoding="utf-8")


def _jpeg(path: Path, size: tuple[int, int], colour: tuple[int, int, int], box=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    if box is not None:
        ImageDraw.Draw(image).ellipse(box, fill=(235, 195, 170))
    image.save(path, "JPEG", quality=30, optimize=True)


# --------------------------------------------------------------------------- COCO 2017


def make_coco() -> None:
    """annotations/person_keypoints_val2017.json + val2017/: three images, 100×80 pixels."""
    root = _fresh("coco")
    standing = [
        (50, 10), (52, 8), (48, 8), (54, 9), (46, 9),
        (58, 20), (42, 20), (60, 32), (40, 32), (61, 42), (39, 42),
        (55, 45), (45, 45), (56, 60), (44, 60), (56, 75), (44, 75),
    ]  # fmt: skip
    images = []
    for image_id in (139, 285, 632):
        name = f"{image_id:012d}.jpg"
        images.append(
            {
                "license": 4,
                "file_name": name,
                "coco_url": f"http://images.cocodataset.org/val2017/{name}",
                "height": 80,
                "width": 100,
                "date_captured": "2013-11-21 01:34:01",
                "flickr_url": f"http://farm9.staticflickr.com/fixture/{name}",
                "id": image_id,
            }
        )
        _jpeg(root / "val2017" / name, (100, 80), (90, 110, 130), (38, 4, 62, 78))
    person = {
        "segmentation": [[38.0, 6.0, 62.0, 6.0, 62.0, 77.0, 38.0, 77.0]],
        "num_keypoints": 17,
        "area": 1704.0,
        "iscrowd": 0,
        "keypoints": [v for x, y in standing for v in (x, y, 2)],
        "image_id": 139,
        "bbox": [36.8, 1.3, 26.4, 80 - 1.3],
        "category_id": 1,
        "id": 1,
    }
    unlabelled = {
        "segmentation": [[10.0, 10.0, 40.0, 10.0, 40.0, 50.0, 10.0, 50.0]],
        "num_keypoints": 0,
        "area": 900.0,
        "iscrowd": 0,
        "keypoints": [0] * 51,
        "image_id": 285,
        "bbox": [10.0, 10.0, 30.0, 40.0],
        "category_id": 1,
        "id": 2,
    }
    crowd = {
        # Crowd regions carry an uncompressed RLE (column-major run lengths) and no keypoints.
        "segmentation": {"counts": [0, 400, 7600], "size": [80, 100]},
        "num_keypoints": 0,
        "area": 400.0,
        "iscrowd": 1,
        "keypoints": [0] * 51,
        "image_id": 139,
        "bbox": [0.0, 0.0, 5.0, 80.0],
        "category_id": 1,
        "id": 3,
    }
    _write_json(
        root / "annotations" / "person_keypoints_val2017.json",
        {
            "info": {
                "description": "COCO 2017 Dataset",
                "url": "http://cocodataset.org",
                "version": "1.0",
                "year": 2017,
                "contributor": "COCO Consortium",
                "date_created": "2017/09/01",
            },
            "licenses": [
                {
                    "url": "http://creativecommons.org/licenses/by/2.0/",
                    "id": 4,
                    "name": "Attribution License",
                }
            ],
            "images": images,
            "annotations": [person, unlabelled, crowd],
            "categories": [PERSON],
        },
    )


# --------------------------------------------------------------------------- SyRIP

SUPINE_XY = [
    (320, 100), (330, 90), (310, 90), (342, 96), (298, 96),
    (360, 150), (280, 150), (380, 200), (260, 200), (390, 250), (250, 250),
    (345, 260), (295, 260), (355, 330), (285, 330), (360, 400), (280, 400),
]  # fmt: skip


def _syrip_annotation(image_id: int, shift, unlabelled) -> dict:
    keypoints = []
    for j, (x, y) in enumerate(SUPINE_XY):
        # left_wrist (9) is labelled but occluded (v = 1), as a blanket often hides it.
        keypoints += [0, 0, 0] if j in unlabelled else [x + shift[0], y + shift[1], 1 if j == 9 else 2]
    return {
        "id": image_id,
        "image_id": image_id,
        "category_id": 1,
        "keypoints": keypoints,
        "num_keypoints": 17 - len(unlabelled),
        "bbox": [230 + shift[0], 70 + shift[1], 180, 350],
        "area": 180 * 350 * 0.6,
        "iscrowd": 0,
        "segmentation": [],
    }


def make_syrip() -> None:
    """annotations/ (+ the 200R_1000S variant) and images/{train,validate}_infant/, 640×480."""
    root = _fresh("syrip")
    train_images = [
        (1, "train00001.jpg", False, "supine", "youtube_017_frame_00420.jpg", (0, 0), ()),
        (2, "train00002.jpg", False, "sitting", "google_image_0031.png", (10, -20), (3,)),
        (10001, "train10001.jpg", True, "supine", "syn_smil_0001.png", (-30, 40), (3, 4)),
    ]
    validate_images = [
        (0, "test0.jpg", False, "supine", "youtube_101_frame_00010.jpg", (0, 0), ()),
        (7, "test7.jpg", False, "prone", "google_image_0077.png", (20, 10), (4,)),
    ]
    for split, rows in (("train_infant", train_images), ("validate_infant", validate_images)):
        images, annotations = [], []
        for image_id, name, synthetic, posture, original, shift, unlabelled in rows:
            images.append(
                {
                    "id": image_id,
                    "file_name": name,
                    "width": 640,
                    "height": 480,
                    "is_synthetic": synthetic,
                    "posture": posture,
                    "is_labeled": True,
                    "original_file_name": original,
                }
            )
            annotations.append(_syrip_annotation(image_id, shift, unlabelled))
            box = (230 + shift[0], 70 + shift[1], 410 + shift[0], 420 + shift[1])
            _jpeg(root / "images" / split / name, (640, 480), (200, 170, 150), box)
        data = {
            "info": {"description": "SyRIP-shaped test fixture", "year": 2021},
            "licenses": [],
            "images": images,
            "annotations": annotations,
            "categories": [PERSON],
        }
        file = f"person_keypoints_{split}.json"
        _write_json(root / "annotations" / file, data, indent=2)
        _write_json(root / "annotations" / "200R_1000S" / file, data, indent=2)


# --------------------------------------------------------------------------- SURREAL (TLlib)


def make_surreal() -> None:
    """train/run{0,1,2}.json + train/run{k}/ crops (64×64): three samples per run."""
    root = _fresh("surreal")
    names = list(INFANT_SMPL24)
    adult = np.array([INFANT_SMPL24[n] for n in names]) * 2.8  # ~1.4 m tall
    intrinsic = [[100.0, 0.0, 32.0], [0.0, 100.0, 32.0], [0.0, 0.0, 1.0]]
    for run in range(3):
        samples = []
        for k in range(3):
            turn = np.deg2rad(15.0 * (3 * run + k - 4))  # a different yaw per sample
            rotation = np.array(
                [[np.cos(turn), 0, np.sin(turn)], [0, 1, 0], [-np.sin(turn), 0, np.cos(turn)]]
            )
            joints = adult @ rotation.T + np.array([0.05 * (k - 1), -0.2, 3.0])
            uv = joints[:, :2] / joints[:, 2:] * 100.0 + 32.0
            name = f"{run + 1:02d}_{k + 1:02d}_c0001_{10 * k:03d}.jpg"
            samples.append(
                {
                    "name": name,
                    "keypoint2d": np.round(uv, 4).tolist(),
                    "keypoint3d": np.round(joints, 6).tolist(),
                    "intrinsic_matrix": intrinsic,
                }
            )
            _jpeg(root / "train" / f"run{run}" / name, (64, 64), (120, 120, 100))
        _write_json(root / "train" / f"run{run}.json", samples)


# --------------------------------------------------------------------------- MINI-RGBD

MINIRGBD_K = np.array(
    [
        [588.67905803875317, 0.0, 322.22048191353628],
        [0.0, 590.25690113005601, 237.46785983766890],
        [0.0, 0.0, 1.0],
    ]
)


def make_minirgbd() -> None:
    """Sequences 01 and 11, frames 0-2: rgb/, depth/, fg_mask/, joints_2Ddep/, joints_3D/."""
    root = _fresh("minirgbd")
    names = list(INFANT_SMPL24)
    body = np.array([INFANT_SMPL24[n] for n in names] + [NOSE])
    for sequence in ("01", "11"):
        for frame in range(3):
            joints = body + np.array([0.01 * frame, 0.0, 0.8])  # the infant drifts right
            uvw = joints @ MINIRGBD_K.T
            uv = uvw[:, :2] / uvw[:, 2:]
            folder = root / sequence
            for sub in ("rgb", "depth", "fg_mask", "joints_2Ddep", "joints_3D"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            stem = f"{frame:05d}"
            rows = np.column_stack([uv, joints[:, 2] * 1000, np.arange(25)])
            np.savetxt(
                folder / "joints_2Ddep" / f"syn_joints_2Ddep_{stem}.txt",
                rows,
                fmt=["%.6f", "%.6f", "%.6f", "%d"],
            )
            np.savetxt(
                folder / "joints_3D" / f"syn_joints_3D_{stem}.txt",
                np.column_stack([joints, np.arange(25)]),
                fmt=["%.8f", "%.8f", "%.8f", "%d"],
            )
            # The silhouette: 14-pixel-wide limbs along the projected skeleton.
            mask = np.zeros((480, 640), np.uint8)
            for a, b in LIMBS:
                pa = tuple(int(round(v)) for v in uv[names.index(a)])
                pb = tuple(int(round(v)) for v in uv[names.index(b)])
                cv2.line(mask, pa, pb, 255, 14)
            rgb = np.full((480, 640, 3), (60, 90, 60), np.uint8)
            rgb[mask > 0] = (150, 180, 230)  # BGR skin on a green blanket
            depth = np.full((480, 640), 850, np.uint16)
            depth[mask > 0] = 800
            cv2.imwrite(str(folder / "rgb" / f"syn_{stem}.png"), rgb)
            cv2.imwrite(str(folder / "depth" / f"syn_{stem}_depth.png"), depth)
            cv2.imwrite(str(folder / "fg_mask" / f"mask_{stem}.png"), mask)


if __name__ == "__main__":
    make_coco()
    make_syrip()
    make_surreal()
    make_minirgbd()
    total = sum(p.stat().st_size for p in HERE.rglob("*") if p.is_file())
    print(f"tests/data: {total / 1024:.0f} KiB")
