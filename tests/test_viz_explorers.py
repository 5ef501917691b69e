"""Chapter 06's explorers without a browser: saved predictions, the body explorer, the dataset
browser, the lifting explorer, their static (plotly frames) forms and their messages for
missing inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from infantpose.data.coco import annotation_record, image_record, make_coco
from infantpose.keypoints import COCO17
from infantpose.pose2d.evaluate import Predictions, instance_oks
from infantpose.pose2d.predictions import (
    PredictionsError,
    list_predictions,
    predictions_for,
    read_predictions,
    write_predictions,
)
from infantpose.viz.explorer_base import (
    MissingInput,
    add_slider_frames,
    message_html,
    skeleton_traces_2d,
)

# ------------------------------------------------------------------ a tiny COCO set with images


def _infant(shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(3)
    kp = np.zeros((17, 3))
    kp[:, 0] = 40 + rng.uniform(0, 60, 17) + shift
    kp[:, 1] = 30 + rng.uniform(0, 50, 17)
    kp[:, 2] = 2
    kp[4] = 0  # an unlabelled right ear
    return kp


@pytest.fixture
def tiny_set(tmp_path):
    from PIL import Image

    images, annotations = [], []
    for i, posture in enumerate(("supine", "prone", "supine")):
        name = f"test{i}.jpg"
        Image.fromarray(np.full((120, 160, 3), 60 + 40 * i, np.uint8)).save(tmp_path / name)
        images.append(image_record(i, name, 160, 120, is_synthetic=False, posture=posture))
        annotations.append(annotation_record(10 + i, i, _infant(5.0 * i), image_size=(160, 120)))
    return make_coco(images, annotations, image_root=tmp_path, source="tiny test set")


def _predictions(coco, errors_px):
    """Predictions off the truth by ``errors_px[i]`` pixels along x, one per annotation."""
    gt = coco.keypoints_array()
    kp = gt.copy()
    kp[..., 0] += np.asarray(errors_px, float)[:, None]
    kp[..., 2] = 0.9
    return Predictions(
        image_ids=np.array([a["image_id"] for a in coco.annotations]),
        keypoints=kp,
        scores=np.full(len(kp), 0.9),
        domains=np.zeros(len(kp), int),
        annotation_ids=np.array([a["id"] for a in coco.annotations]),
    )


# ------------------------------------------------------------------ saved predictions


def test_saved_predictions_round_trip_with_provenance(tmp_path, tiny_set):
    run_dir = tmp_path / "runs" / "smoke" / "03-fidip-training"
    preds = _predictions(tiny_set, [0.0, 3.0, 9.0])
    path = write_predictions(run_dir, "FiDIP", preds, tiny_set, seed=1, selection="best val AP",
                             data="embedded")  # fmt: skip
    results = json.loads((run_dir / "predictions" / "fidip.json").read_text())
    assert isinstance(results, list) and set(results[0]) >= {
        "image_id",
        "category_id",
        "keypoints",
        "score",
    }
    saved = read_predictions(path)
    assert saved.name == "FiDIP" and saved.provenance["chapter"] == "03-fidip-training"
    assert saved.provenance["profile"] == "smoke" and saved.provenance["seed"] == 1
    np.testing.assert_allclose(saved.predictions.keypoints, preds.keypoints)
    np.testing.assert_array_equal(saved.predictions.annotation_ids, preds.annotation_ids)
    np.testing.assert_allclose(
        instance_oks(tiny_set, saved.predictions), instance_oks(tiny_set, preds)
    )
    assert set(predictions_for(run_dir, tiny_set)) == {"FiDIP"}


def test_saved_predictions_refuse_another_set_and_a_replaced_file(tmp_path, tiny_set):
    run_dir = tmp_path / "03"
    path = write_predictions(run_dir, "FiDIP", _predictions(tiny_set, [0, 0, 0]), tiny_set, seed=0,
                             selection="s", data="embedded")  # fmt: skip
    other = tiny_set.subset([0, 1])
    with pytest.raises(
        PredictionsError, match=r"fidip\.provenance\.json: made on another test set"
    ):
        predictions_for(run_dir, other)
    (run_dir / "predictions" / "fidip.json").write_text("[]")
    with pytest.raises(PredictionsError, match=r"fidip\.json: does not match 'results_sha256'"):
        read_predictions(path)


def test_results_without_a_provenance_record_are_not_listed(tmp_path, tiny_set):
    folder = tmp_path / "04" / "predictions"
    folder.mkdir(parents=True)
    (folder / "shift-all.json").write_text("[]")  # an interrupted write: no provenance yet
    assert list_predictions(tmp_path / "04") == []


def test_predictions_without_annotation_ids_are_refused(tmp_path, tiny_set):
    preds = _predictions(tiny_set, [0, 0, 0])
    preds.annotation_ids = None
    with pytest.raises(ValueError, match="annotation ids"):
        write_predictions(tmp_path, "x", preds, tiny_set, seed=0, selection="s", data="embedded")


# ------------------------------------------------------------------ shared pieces


def test_slider_frames_give_one_frame_and_step_per_state():
    import plotly.graph_objects as go

    fig = go.Figure([go.Scatter(x=[0], y=[0]), go.Scatter(x=[1], y=[1])])
    states = [[go.Scatter(x=[k], y=[k]), go.Scatter(x=[k + 1], y=[k])] for k in range(3)]
    add_slider_frames(fig, states, ["a", "b", "c"], titles=["t0", "t1", "t2"])
    assert [f.name for f in fig.frames] == ["0", "1", "2"]
    assert list(fig.frames[2].data[0].x) == [2]
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["a", "b", "c"] and list(steps[1].args[0]) == ["1"]
    assert fig.layout.title.text == "t0" and fig.frames[1].layout.title.text == "t1"
    with pytest.raises(ValueError, match=r"state 0 .* has 1 traces; the figure updates 2"):
        add_slider_frames(fig, [[go.Scatter()]], ["x"])


def test_2d_skeleton_keeps_its_trace_count_when_joints_hide():
    uv = _infant()[:, :2]
    shown = skeleton_traces_2d(uv, COCO17, "gt")
    hidden = skeleton_traces_2d(uv, COCO17, "gt", visible=np.arange(17) < 5)
    assert len(shown) == len(hidden)
    assert hidden[-1].x[10] is None and shown[-1].x[10] == pytest.approx(uv[10, 0])
    nan = skeleton_traces_2d(np.full((17, 2), np.nan), COCO17, "none", color="#000000")
    assert len(nan) == 2 and all(x is None for x in nan[-1].x)


def test_message_names_what_is_missing_and_what_makes_it_without_a_traceback():
    error = MissingInput("FiDIP's predictions", "Chapter 03 writes them.", "no folder")
    text = message_html(error)
    assert "FiDIP&#x27;s predictions is missing" in text and "Chapter 03 writes them." in text
    assert "Traceback" not in text


# ------------------------------------------------------------------ dataset browser


def test_browser_table_scores_filters_and_orders(tiny_set):
    from infantpose.viz.dataset_browser import BrowserSource, browse_table, select_rows

    source = BrowserSource("stand-in infants (test split)", "infant", tiny_set, split="test")
    source.predictions["adult model"] = _predictions(tiny_set, [0.0, 12.0, 4.0])
    table = browse_table([source])
    assert len(table) == 3 and set(table["posture"]) == {"supine", "prone"}
    assert table["domain"].iloc[0] == "infant, real (rendered stand-in)"
    assert table["oks/adult model"].iloc[0] == pytest.approx(1.0)
    np.testing.assert_allclose(
        table["oks/adult model"], instance_oks(tiny_set, source.predictions["adult model"])
    )
    worst = select_rows(table, worst_by="adult model")
    assert list(worst["annotation_id"]) == [11, 12, 10]
    assert list(select_rows(table, posture="supine")["annotation_id"]) == [10, 12]
    with pytest.raises(KeyError, match="no model 'FiDIP'"):
        select_rows(table, worst_by="FiDIP")


def test_browser_static_has_a_frame_per_image_and_the_live_browser_pages(tiny_set):
    from infantpose.viz.dataset_browser import (
        BrowserSource,
        DatasetBrowser,
        browse_table,
        browser_static,
    )

    source = BrowserSource("infants", "infant", tiny_set, split="test")
    source.predictions["adult model"] = _predictions(tiny_set, [0.0, 12.0, 4.0])
    table = browse_table([source])
    fig = browser_static([source], table)
    assert len(fig.frames) == 3 and fig.data[0].type == "image"
    assert fig.data[0].source.startswith("data:image/jpeg;base64,")
    assert "OKS: adult model 1.00" in fig.frames[0].layout.title.text
    browser = DatasetBrowser([source])
    first = browser.status.value
    assert first.startswith("1 / 3: test1.jpg")  # worst first
    browser.index.value = 2
    assert browser.status.value.startswith("3 / 3: test0.jpg") and browser.status.value != first
    browser.posture.value = "prone"
    assert browser.status.value.startswith("1 / 1: test1.jpg")


def test_saved_predictions_join_the_infant_test_split_or_leave_a_note(tmp_path, tiny_set):
    from infantpose.viz.dataset_browser import BrowserSource, add_saved

    run_dir = tmp_path / "smoke" / "03-fidip-training"
    source = BrowserSource(
        "infants", "infant", tiny_set.subset([0, 1]), split="test", full=tiny_set
    )
    assert not add_saved(source, "FiDIP", run_dir, "FiDIP", "Chapter 03 writes them.")
    assert (
        "FiDIP's predictions (row 'FiDIP') is missing. Chapter 03 writes them."
        in source.notes["FiDIP"]
    )
    write_predictions(run_dir, "FiDIP", _predictions(tiny_set, [1, 2, 3]), tiny_set, seed=0,
                      selection="s", data="embedded")  # fmt: skip
    assert add_saved(source, "FiDIP", run_dir, "FiDIP", "Chapter 03 writes them.")
    assert list(source.predictions["FiDIP"].annotation_ids) == [10, 11]  # the browsed images only
    adults = BrowserSource("adults", "adult", tiny_set)
    assert not add_saved(adults, "FiDIP", run_dir, "FiDIP", "-") and "FiDIP" not in adults.notes


def test_missing_datasets_become_messages_inside_the_browser(tmp_path, monkeypatch, tiny_set):
    from infantpose.viz.dataset_browser import (
        BrowserSource,
        DatasetBrowser,
        collect_sources,
        real_source,
        synthetic_source,
    )

    monkeypatch.setenv("INFANTPOSE_DATA", str(tmp_path / "empty-data"))
    sources, missing = collect_sources({
        "synthetic infants": lambda: synthetic_source(6, 2, 0),
        "SyRIP": lambda: real_source("smoke"),
        "infants": lambda: BrowserSource("infants", "infant", tiny_set),
    })  # fmt: skip
    assert [s.name for s in sources] == ["infants"]
    assert "infants_fidip_n6_r2_s0_anny" in missing["synthetic infants"]
    assert "--only 02-smil-synthesis" in missing["synthetic infants"]
    assert "paths.syrip" in missing["SyRIP"] and "smoke.yaml" in missing["SyRIP"]
    with_data = DatasetBrowser(sources, missing)
    assert "Chapter 02 makes them" in with_data.message.value
    only_missing = DatasetBrowser(
        *collect_sources({"synthetic": lambda: synthetic_source(999, 2, 0)})
    )
    assert len(only_missing.box.children) == 1  # the message is the whole view
    assert (
        "is missing" in only_missing.message.value and "Traceback" not in only_missing.message.value
    )


# ------------------------------------------------------------------ body explorer


def test_cluster_mesh_thins_a_grid_without_degenerate_faces():
    from infantpose.viz.body_explorer import cluster_mesh

    n = 21
    xs, ys = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    vertices = np.column_stack([xs.ravel(), ys.ravel(), np.zeros(n * n)])
    faces = []
    for r in range(n - 1):
        for c in range(n - 1):
            a, b, d = r * n + c, r * n + c + 1, (r + 1) * n + c
            faces += [(a, b, d), (b, (r + 1) * n + c + 1, d)]
    cluster, thinned = cluster_mesh(vertices, np.array(faces), cells=5)
    assert cluster.shape == (n * n,) and cluster.max() + 1 < n * n
    assert len(thinned) > 0 and (thinned < cluster.max() + 1).all()
    assert (thinned[:, 0] != thinned[:, 1]).all() and (thinned[:, 1] != thinned[:, 2]).all()
    assert len(np.unique(np.sort(thinned, axis=1), axis=0)) == len(thinned)


def test_body_explorer_poses_ages_and_projects(anny_body):
    from infantpose.viz.body_explorer import (
        BodyExplorer,
        BodyPoser,
        body_explorer_static,
        view_camera,
    )

    poser = BodyPoser(anny_body)
    baby, adult = poser.state(0.0), poser.state(2 / 3)
    assert 0.55 < baby.height_m < 0.8 and adult.height_m > 1.6
    bent = poser.state(0.0, {"left knee flexion": 90.0})
    ankle, knee = COCO17.index("left_ankle"), COCO17.index("left_knee")
    # the knee flexes backwards: the ankle moves to -z (the body faces +z) and up
    assert bent.keypoints[ankle, 2] < baby.keypoints[ankle, 2] - 0.05
    assert bent.keypoints[ankle, 1] > baby.keypoints[ankle, 1]
    # the knee keypoint (regressed from the mesh) stays within a few millimetres
    np.testing.assert_allclose(bent.keypoints[knee], baby.keypoints[knee], atol=5e-3)
    with pytest.raises(KeyError, match="unknown joint slider"):
        poser.state(0.0, {"left knee bend": 10.0})
    camera = view_camera(baby.vertices, 0.0, 0.0)
    uv, depth = camera.project(baby.keypoints)
    assert camera.in_image(uv, depth).all()
    assert uv[COCO17.index("nose"), 1] < uv[ankle, 1]  # head above the feet in the image
    fig = body_explorer_static(poser, [("baby", 0.0, {}), ("adult", 2 / 3, {})])
    assert len(fig.frames) == 2 and len(fig.frames[0].data) == len(fig.data)
    assert (
        "height 0.6" in fig.frames[0].layout.title.text
        and "height 1.8" in fig.frames[1].layout.title.text
    )
    explorer = BodyExplorer(poser)
    before, nose_x = explorer.status.value, np.array(explorer.figure.data[-1].x, dtype=float)
    explorer.joints["left knee flexion"].value = 120.0
    after = explorer.status.value
    assert after != before and "height" in after
    explorer.azimuth.value = 90.0
    assert not np.allclose(
        np.array(explorer.figure.data[-1].x, dtype=float), nose_x, equal_nan=True
    )


# ------------------------------------------------------------------ lifting explorer


@pytest.fixture(scope="module")
def tiny_prior_and_cases():
    from infantpose import lift3d
    from infantpose.camera import project_with_intrinsics
    from infantpose.lift3d.data import root_relative
    from infantpose.viz.lift_explorer import LiftCase

    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.15, (17, 3))
    poses, _ = root_relative(base[None] + rng.normal(0, 0.01, (64, 17, 3)), "h36m17")
    prior = lift3d.train_prior(
        poses, lift3d.ScoreConfig(width=32, blocks=1, embed_dim=16, dropout=0.0, groups=8),
        lift3d.PriorTrainConfig(steps=5, batch_size=16, warmup=1), seed=0, progress=False,
    )  # fmt: skip
    K = np.array([[300.0, 0, 160], [0, 300.0, 120], [0, 0, 1]])
    truth = poses[0]
    uv = project_with_intrinsics((truth + np.array([0, 0, 2.0]))[None], K)[0]
    return prior, [LiftCase("made-up pose", uv, K, "h36m17", truth)]


def test_lift_trace_frames_and_live_steps(tiny_prior_and_cases):
    from infantpose.lift3d import LiftConfig
    from infantpose.viz.lift_explorer import LiftExplorer, lift_static, run_lift

    prior, cases = tiny_prior_and_cases
    config = LiftConfig.fast(ipo_steps=4, oil_steps=4)
    trace = run_lift(prior, cases[0], config, hypotheses=2, every=2)
    assert trace.trajectory.shape[1:] == (2, 17, 3) and trace.final.shape == (2, 17, 3)
    assert trace.mpjpe.shape == (len(trace.steps) + 1, 2) and np.isfinite(trace.mpjpe).all()
    assert list(trace.steps) == [0, 2, 3]  # every 2 OIL steps, and the last
    fig = lift_static(trace)
    assert len(fig.frames) == len(trace.steps) + 1
    assert fig.layout.sliders[0].steps[-1].label == "final"
    assert all(len(f.data) == len(fig.frames[0].data) for f in fig.frames)
    explorer = LiftExplorer(prior, cases, config, every=2)
    final = explorer.status.value
    assert "final (after resize)" in final and "MPJPE" in final
    explorer.step.value = 0
    assert "OIL step 0" in explorer.status.value


def test_lift_explorer_without_a_prior_or_truth_says_so(tiny_set):
    from infantpose.lift3d import LiftConfig
    from infantpose.viz.lift_explorer import LiftExplorer, cases_from_coco

    explorer = LiftExplorer(
        None, [], LiftConfig.fast(), missing="Chapter 06 trains it (cached_prior)."
    )
    assert "The lifting prior is missing" in explorer.message.value
    with pytest.raises(MissingInput, match="3D ground truth for tiny test set"):
        cases_from_coco(None, tiny_set, 1)


def test_cached_prior_is_trained_once_then_loaded(tmp_path, tiny_prior_and_cases):
    from infantpose.lift3d.cache import cached_prior, prior_cache_path

    prior, _ = tiny_prior_and_cases
    calls = []

    def make():
        calls.append(1)
        return prior

    _, loaded_first = cached_prior("p", {"steps": 5}, make, root=tmp_path)
    again, loaded_again = cached_prior("p", {"steps": 5}, make, root=tmp_path)
    assert (loaded_first, loaded_again, len(calls)) == (False, True, 1)
    assert prior_cache_path("p", {"steps": 6}, tmp_path) != prior_cache_path(
        "p", {"steps": 5}, tmp_path
    )
    prior_cache_path("p", {"steps": 5}, tmp_path).write_bytes(b"damaged")
    _, loaded = cached_prior("p", {"steps": 5}, make, root=tmp_path)
    assert not loaded and len(calls) == 2
    x = np.zeros((1, 17, 3), np.float32)
    import torch

    with torch.no_grad():
        a = again.network(torch.as_tensor(x), torch.full((1,), 0.5))
        b = prior.network(torch.as_tensor(x), torch.full((1,), 0.5))
    assert math.isclose(float((a - b).abs().max()), 0.0, abs_tol=1e-6)


def test_live_or_note_builds_the_widget_only_when_live():
    from infantpose.viz.dataset_browser import missing_html
    from infantpose.viz.explorer_base import LIVE_NOTE, live_or_note

    built = []
    assert live_or_note(lambda: built.append(1) or "widget", True) == "widget" and built == [1]
    note = live_or_note(lambda: built.append(2), False)
    assert built == [1] and LIVE_NOTE in note.data  # nothing built in the book's run
    html = missing_html({"x": "SyRIP (real) is missing. Set paths.syrip in smoke.yaml"})
    shown = live_or_note(lambda: built.append(3), False, static=html)
    assert built == [1] and "paths.syrip" in shown.data and "is missing" in shown.data
