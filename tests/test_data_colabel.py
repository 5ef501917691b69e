"""AH-CoLT co-labelling: scripted click sessions, crashes, failing disks, corrupt files, replay."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from infantpose import io
from infantpose.data import colabel
from infantpose.data.coco import CocoFormatError, image_record, read_coco
from infantpose.data.colabel import (
    ColabelStateError,
    LabelingSession,
    load_events,
    replay,
    replay_recording,
    scripted_review,
    template_pose,
)
from infantpose.io import write_text_atomic

W, H = 160, 120


def records(n=3):
    return [image_record(i + 1, f"img{i + 1:03d}.jpg", W, H) for i in range(n)]


def a_pose(shift=0.0):
    pose = template_pose(W, H)
    pose[:, 0] += shift
    return pose


def script(session):
    """Image 0: two rejected points (one revised occluded, one missing), box drawn, finished."""
    session.propose(0, a_pose())
    session.accept_all(0)
    session.reject(0, "left_wrist")
    session.revise(0, "left_wrist", 100.0, 70.0, visible=False)
    session.revise(0, "nose", 80.0, 10.0)  # revising rejects the proposal implicitly
    session.mark_missing(0, "right_ankle")
    session.set_box(0, 130, 110, -100, -105)  # dragged up-left: corners are sorted
    session.finish(0)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_scripted_session_produces_the_expected_coco_file(tmp_path):
    path = tmp_path / "labels.json"
    session = LabelingSession(path, records())
    script(session)
    coco = read_coco(path)  # valid COCO at every moment
    assert coco.num_images == 3 and coco.num_annotations == 1
    (annotation,) = coco.annotations
    assert annotation["id"] == annotation["image_id"] == 1
    kps = np.asarray(annotation["keypoints"]).reshape(17, 3)
    expected = a_pose()
    expected[9] = (100, 70, 1)  # left wrist, occluded
    expected[0] = (80, 10, 2)  # nose, re-clicked
    expected[16] = (0, 0, 0)  # right ankle out of frame
    assert np.allclose(kps, np.round(expected, 3), atol=1e-3)
    assert annotation["num_keypoints"] == 16
    assert annotation["bbox"] == [30.0, 5.0, 100.0, 105.0]
    assert [im["is_labeled"] for im in coco.images] == [True, False, False]
    state = json.loads(path.read_text())["colabel"]
    assert state["images"]["1"]["status"] == "done"
    assert state["images"]["2"]["status"] == "new"
    assert [e["op"] for e in state["events"]] == [
        "propose", "accept_all", "reject", "revise", "revise", "missing", "box", "finish",
    ]  # fmt: skip
    assert session.progress() == {
        "new": 2, "proposed": 0, "reviewed": 0, "revised": 0, "done": 1, "total": 3,
    }  # fmt: skip
    assert session.next_pending() == 1
    assert session.labelled().num_images == 1
    assert _leftovers(tmp_path) == []


def test_status_follows_the_workflow(tmp_path):
    session = LabelingSession(tmp_path / "s.json", records(1))
    assert session.status(0) == "new"
    with pytest.raises(ValueError, match=r"propose\(0\) first"):
        session.accept(0, 0)
    session.propose(0, a_pose())
    assert session.status(0) == "proposed"
    for k in range(16):
        session.accept(0, k)
    session.reject(0, 16)
    assert session.status(0) == "reviewed"
    with pytest.raises(ValueError, match="right_ankle"):
        session.finish(0)
    session.revise(0, 16, 50, 60)
    assert session.status(0) == "revised"
    session.finish(0)
    assert session.status(0) == "done"
    assert session.next_pending() is None
    # Changing a done image re-opens it and withdraws its annotation.
    session.accept(0, 16)
    assert session.status(0) == "revised"
    assert read_coco(session.path).num_annotations == 0


def test_reopening_resumes_exactly_where_it_stopped(tmp_path):
    path = tmp_path / "labels.json"
    session = LabelingSession(path, records())
    script(session)
    session.propose(1, a_pose(5))
    session.reject(1, 3)
    session.revise(1, 4, 12.5, 30.25)
    before = (session.state, session.events, session.coco.annotations)
    del session  # the kernel died mid-image
    again = LabelingSession(path)
    assert (again.state, again.events, again.coco.annotations) == before
    assert again.status(1) == "proposed"
    assert again.decisions(1)[3:5] == ["rejected", "rejected"]
    assert again.keypoints(1)[4].tolist() == [12.5, 30.25, 2]
    assert again.keypoints(1)[3].tolist() == [0, 0, 0]  # rejected, not yet revised
    assert again.next_pending() == 1


def test_a_failed_write_loses_nothing_saved_and_leaves_a_valid_file(tmp_path, monkeypatch):
    path = tmp_path / "labels.json"
    session = LabelingSession(path, records())
    session.propose(0, a_pose())
    session.accept(0, 0)
    saved = path.read_text()

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    # The temporary file is written, then moving it into place fails.
    monkeypatch.setattr(io.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        session.reject(0, 1)
    monkeypatch.undo()
    assert path.read_text() == saved  # untouched, still valid
    read_coco(path)
    assert _leftovers(tmp_path) == []
    # Memory was rolled back as well: the session and the file agree.
    assert session.decisions(0)[:2] == ["accepted", "pending"]
    assert [e["op"] for e in session.events] == ["propose", "accept"]
    session.reject(0, 1)  # and the session goes on
    assert LabelingSession(path).decisions(0)[:2] == ["accepted", "rejected"]


def test_an_interrupt_during_save_keeps_the_last_completed_state(tmp_path, monkeypatch):
    path = tmp_path / "labels.json"
    session = LabelingSession(path, records())
    session.propose(0, a_pose())

    def interrupted(document, target):
        target.with_name(".labels.json.half.tmp").write_text(json.dumps(document)[:50])
        raise KeyboardInterrupt

    monkeypatch.setattr(colabel, "write_coco", interrupted)
    with pytest.raises(KeyboardInterrupt):
        session.accept_all(0)
    resumed = LabelingSession(path)
    assert resumed.status(0) == "proposed"
    assert resumed.decisions(0) == ["pending"] * 17


def test_corrupt_or_foreign_files_raise_and_are_not_overwritten(tmp_path):
    path = tmp_path / "labels.json"
    LabelingSession(path, records())
    text = path.read_text()
    write_text_atomic(path, text[: len(text) // 2])
    with pytest.raises(CocoFormatError, match="damaged and was not touched"):
        LabelingSession(path, records())
    assert path.read_text() == text[: len(text) // 2]

    data = json.loads(text)
    data["colabel"]["images"]["2"]["decisions"] = ["maybe"] * 17
    path.write_text(json.dumps(data))
    with pytest.raises(ColabelStateError, match=r"labels\.json.*damaged"):
        LabelingSession(path)

    del data["colabel"]
    path.write_text(json.dumps(data))
    with pytest.raises(ColabelStateError, match="not a labelling session"):
        LabelingSession(path)
    assert json.loads(path.read_text()) == data

    with pytest.raises(FileNotFoundError, match="pass images"):
        LabelingSession(tmp_path / "missing.json")


def test_replay_reproduces_a_session_headless(tmp_path):
    first = LabelingSession(tmp_path / "a.json", records())
    script(first)
    first.propose(2, a_pose(-3))
    first.accept_all(2)
    first.finish(2)
    events = load_events(first.path)
    second = replay(LabelingSession(tmp_path / "b.json", records()), events)
    assert second.coco.annotations == first.coco.annotations
    assert second.state == first.state
    assert [e["op"] for e in second.events] == [e["op"] for e in events]
    assert [second.state[i]["proposer"] for i in (1, 2, 3)] == ["given", None, "given"]
    baseline = LabelingSession(tmp_path / "c.json", records())
    baseline.propose(0)  # the template: its name survives a replay
    again = replay(LabelingSession(tmp_path / "d.json", records()), baseline.events)
    assert again.state[1]["proposer"] == baseline.state[1]["proposer"] == "baseline-template"
    with pytest.raises(ValueError, match=r"event 0.*unknown op"):
        replay(second, [{"op": "dance", "image_id": 1}])


def test_a_recording_replays_by_file_name_into_a_differently_numbered_session(tmp_path):
    first = LabelingSession(tmp_path / "recording.json", records())
    script(first)
    shuffled = [{**r, "id": 10 + r["id"]} for r in reversed(records())]
    second = replay_recording(LabelingSession(tmp_path / "b.json", shuffled), first.path)
    by_name = {im["file_name"]: im["id"] for im in second.images}
    for annotation in first.coco.annotations:
        name = first.coco.image_by_id(annotation["image_id"])["file_name"]
        (mine,) = [a for a in second.coco.annotations if a["image_id"] == by_name[name]]
        assert mine["keypoints"] == annotation["keypoints"] and mine["bbox"] == annotation["bbox"]
    assert len(second.coco.annotations) == len(first.coco.annotations) == 1
    fewer = LabelingSession(tmp_path / "c.json", records()[1:])
    with pytest.raises(ValueError, match=r"does not have: img001.jpg"):
        replay_recording(fewer, first.path)
    assert fewer.progress()["done"] == 0  # nothing was replayed
    (tmp_path / "junk.json").write_text("[]")
    with pytest.raises(ValueError, match="not a labelling-session file"):
        replay_recording(fewer, tmp_path / "junk.json")


def test_proposer_and_baselines(tmp_path):
    for i in range(2):
        image = np.full((H, W, 3), 40 * i, np.uint8)
        cv2.imwrite(str(tmp_path / f"f{i}.png"), image)
    seen = []

    def detector(rgb):
        seen.append(rgb.shape)
        pose = a_pose()
        pose[0, 0] = 999  # outside the image: clipped
        return pose, 0.75

    session = LabelingSession(
        tmp_path / "s.json", [tmp_path / "f0.png", tmp_path / "f1.png"], proposer=detector
    )
    assert [im["file_name"] for im in session.images] == ["f0.png", "f1.png"]
    session.propose(0)
    assert seen == [(H, W, 3)]
    st = session.state[1]
    assert st["score"] == 0.75 and st["proposer"] == "detector"
    assert session.proposal(0)[0, 0] == W

    base = LabelingSession(tmp_path / "b.json", records(2))
    template = base.propose(0)
    assert np.allclose(template, template_pose(W, H))
    assert base.state[1]["proposer"] == "baseline-template" and base.state[1]["score"] == 0.0
    base.accept_all(0)
    base.finish(0)
    mean = base.propose(1)
    assert base.state[2]["proposer"] == "baseline-mean-pose"
    assert (mean[:, 0] >= 0).all() and (mean[:, 0] <= W).all()


def test_resume_adds_new_images_only(tmp_path):
    path = tmp_path / "s.json"
    LabelingSession(path, records(2))
    session = LabelingSession(path, records(3))
    assert [im["id"] for im in session.images] == [1, 2, 3]
    assert session.progress()["total"] == 3
    assert LabelingSession(path).progress()["total"] == 3


def test_box_and_keypoint_errors(tmp_path):
    session = LabelingSession(tmp_path / "s.json", records(1))
    session.propose(0, a_pose())
    with pytest.raises(ValueError, match="no area inside"):
        session.set_box(0, 500, 500, 10, 10)
    with pytest.raises(KeyError, match="left_tail"):
        session.accept(0, "left_tail")
    with pytest.raises(IndexError, match=r"0\.\.16"):
        session.accept(0, 17)
    session.revise(0, 3, -20, 500)  # clicks outside the image are clipped
    assert session.keypoints(0)[3].tolist() == [0, H, 2]


# --------------------------------------------------------------------------- the widget view


def test_widget_builds_headless_and_proposes_the_first_image(tmp_path):
    from infantpose.viz.colabel_widget import ColabelWidget, colabel_figure

    session = LabelingSession(tmp_path / "s.json", records(2))
    widget = ColabelWidget(session)
    assert widget.index == 0
    assert session.status(0) == "proposed"  # shown → proposed by the baseline
    assert "0/2 done" in widget.progress.value
    fig = colabel_figure(session, 0, selected=3)
    assert [t.name for t in fig.data] == ["image", "bones", "joints"]
    assert fig.data[2].marker.size[3] == 16
    assert "not found" in fig.layout.title.text  # records without files: a blank image


def test_widget_buttons_call_the_session(tmp_path):
    from infantpose.viz.colabel_widget import ColabelWidget

    session = LabelingSession(tmp_path / "s.json", records(2))
    widget = ColabelWidget(session)
    widget.on_accept()
    assert "select a joint" in widget.message.value
    widget.joint.value = 5
    widget.on_reject()
    assert session.decisions(0)[5] == "rejected"
    widget.visibility.value = "occluded"
    widget.x.value, widget.y.value = 40.0, 50.0
    widget.on_place()
    assert session.keypoints(0)[5].tolist() == [40.0, 50.0, 1]
    widget.joint.value = 6
    widget.on_missing()
    assert session.keypoints(0)[6].tolist() == [0, 0, 0]
    widget.on_finish()
    assert "pending" in widget.message.value and session.status(0) == "proposed"
    widget.on_accept_all()
    widget.box_tool.value = True
    widget.click(10, 100)
    widget.click(150, 5)
    assert session.box(0) == [10.0, 5.0, 140.0, 95.0] and not widget.box_tool.value
    widget.on_finish()
    assert session.status(0) == "done"
    widget.on_next()
    assert widget.index == 1 and session.status(1) == "proposed"
    widget.on_prev()
    assert widget.index == 0
    assert [e["op"] for e in session.events][:3] == ["propose", "reject", "revise"]


def test_scripted_review_accepts_close_proposals_and_clicks_the_rest(tmp_path):
    session = LabelingSession(tmp_path / "s.json", records(1))
    truth = a_pose(2.0)
    truth[3] = [40.0, 30.0, 1]  # occluded: always clicked, as occluded
    truth[4] = [0.0, 0.0, 0]  # out of frame: marked missing
    session.propose(0, a_pose())
    far = session.proposal(0).copy()
    counts = scripted_review(session, 0, truth, tolerance_px=3.0)
    assert counts == {"accepted": 15, "revised": 1, "missing": 1}
    labelled = session.keypoints(0)
    assert np.allclose(labelled[[0, 5, 16], :2], far[[0, 5, 16], :2])  # accepted as proposed
    assert labelled[3].tolist() == [40.0, 30.0, 1] and labelled[4].tolist() == [0.0, 0.0, 0]
    assert session.status(0) == "done"
    strict = LabelingSession(tmp_path / "t.json", records(1))
    strict.propose(0, a_pose())
    assert scripted_review(strict, 0, truth, tolerance_px=1.0)["accepted"] == 0
    with pytest.raises(ValueError, match=r"\(17, 3\)"):
        scripted_review(strict, 0, truth[:16])


def test_widget_keyboard_shortcuts_drive_the_same_actions(tmp_path):
    from infantpose.viz.colabel_widget import SHORTCUTS, ColabelWidget

    session = LabelingSession(tmp_path / "s.json", records(2))
    widget = ColabelWidget(session)
    assert widget._keys is not None  # ipyevents is installed: keys are watched
    press = lambda *keys: [widget.on_key({"key": key}) for key in keys]  # noqa: E731
    press("j", "j", "k")  # nose → left_eye → nose
    assert widget.selected == 0
    press("k")  # wraps around to the last joint
    assert widget.selected == 16
    press("r", "o", "m", "x")  # unknown keys do nothing
    assert session.decisions(0)[16] == "rejected" and widget.visibility.value == "occluded"
    assert session.keypoints(0)[16].tolist() == [0, 0, 0]
    press("A", "f")
    assert session.status(0) == "done"
    press("n")
    assert widget.index == 1
    press("b")
    assert widget.box_tool.value
    assert set(SHORTCUTS) >= {"a", "r", "m", "f", "n", "p"}
