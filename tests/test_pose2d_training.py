"""Pose-ResNet data, training and evaluation on tiny COCO sets the tests write."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from infantpose.data.coco import annotation_record, image_record, make_coco
from infantpose.images import ImageReadError
from infantpose.pose2d import (
    PAPER_FROZEN,
    TABLE_ROWS,
    BalancedBatchSampler,
    FidipData,
    PoseDataset,
    PoseResNet,
    TrainConfig,
    adult_fingerprint,
    cached_adult_model,
    cpu_config,
    evaluate,
    fit,
    instance_oks,
    load_checkpoint,
    load_model,
    predict,
    preload,
    pretrain_classifier,
    run_experiment,
    split_validation,
    thin_training_set,
)
from infantpose.pose2d.domain import domain_loss
from infantpose.pose2d.train import build_classifier, train_step

SIZE = (96, 80)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: on a shared 2-core machine, two threads spin against other
    processes and run these tiny models several times slower."""
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


# image width, height


def make_pose_set(root: Path, count: int, *, seed: int = 0, synthetic_every: int = 2, name="set"):
    """``count`` images with a coloured disk on every keypoint, as a COCO set (SyRIP fields)."""
    rng = np.random.default_rng(seed)
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i in range(1, count + 1):
        pixels = rng.integers(0, 60, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
        joints = np.zeros((17, 3))
        joints[:, 0] = rng.uniform(20, SIZE[0] - 20, 17)
        joints[:, 1] = rng.uniform(15, SIZE[1] - 15, 17)
        joints[:, 2] = 2
        for j, (x, y, _) in enumerate(joints):
            color = tuple(int(c) for c in (40 + 12 * j, 255 - 12 * j, 128))
            cv2.circle(pixels, (int(x), int(y)), 2, color, -1)
        cv2.imwrite(str(folder / f"train{i:05d}.jpg"), pixels)
        images.append(
            image_record(
                i,
                f"train{i:05d}.jpg",
                *SIZE,
                is_synthetic=synthetic_every > 0 and i % synthetic_every == 0,
            )
        )
        annotations.append(annotation_record(i, i, joints, image_size=SIZE))
    return make_coco(images, annotations, image_root=folder, source=str(folder / "ann.json"))


def tiny_config(**changes) -> TrainConfig:
    base = cpu_config(
        model={"depth": 18, "input_size": (64, 64), "deconv_channels": (32, 32, 32)},
        classifier_hidden=(32, 16),
        epochs=2,
        batch_size=8,
        pre_epochs=1,
        pre_batch_size=8,
        log=False,
        precision=None,  # bf16 pays off on real sizes, not on these tiny models
        channels_last=False,
    )
    return base.replace(**changes)


@pytest.fixture(scope="module")
def pose_set(tmp_path_factory):
    return make_pose_set(tmp_path_factory.mktemp("pose2d"), 16)


# ----------------------------------------------------------------------------- dataset


def test_dataset_sample_shapes_and_domain(pose_set):
    ds = PoseDataset(pose_set, input_size=(64, 64), augment=None)
    item = ds[1]
    assert item["image"].shape == (3, 64, 64) and item["target"].shape == (17, 16, 16)
    assert item["target_weight"].shape == (17, 1) and item["target_weight"].sum() > 10
    assert item["domain"] == 1.0 and ds[0]["domain"] == 0.0  # image 2 is synthetic
    assert item["image_id"] == 2


def test_dataset_augmentation_is_reproducible_per_epoch(pose_set):
    from infantpose.pose2d.transforms import AugmentConfig

    ds = PoseDataset(pose_set, input_size=(64, 64), augment=AugmentConfig(), seed=3)
    a = ds[4]["image"]
    torch.testing.assert_close(ds[4]["image"], a)
    ds.set_epoch(1)
    assert not torch.equal(ds[4]["image"], a)


def test_flipped_sample_targets_follow_the_image(pose_set):
    from infantpose.pose2d.transforms import AugmentConfig

    flip_only = AugmentConfig(scale_factor=0.0, rotation_prob=0.0, flip_prob=1.0)
    plain = PoseDataset(pose_set, input_size=(64, 64), augment=None)[0]
    flipped = PoseDataset(pose_set, input_size=(64, 64), augment=flip_only)[0]
    # The crop centre goes to pixel w/2 (not (w − 1)/2, as the reference), so a flipped crop is
    # the mirrored crop moved one pixel right — the reason for the flip test's heatmap shift.
    assert (flipped["image"][..., 1:] - plain["image"].flip(-1)[..., :-1]).abs().mean() < 0.05
    # left wrist (9) target of the flipped sample = mirrored right wrist (10) target, 1 px right
    mirrored = plain["target"][10].flip(-1)
    assert (flipped["target"][9][:, 1:] - mirrored[:, :-1]).abs().max() < 0.5


def test_dataset_bad_inputs(tmp_path):
    coco = make_pose_set(tmp_path, 3, synthetic_every=0)
    coco.annotations[0]["keypoints"] = [0] * 51
    coco.annotations[0]["num_keypoints"] = 0
    ds = PoseDataset(coco, input_size=(64, 64))
    assert len(ds) == 2 and "no labelled keypoint" in ds.skipped[0]
    with pytest.raises(ValueError, match=r"annotation id=1 .*train00001.jpg.*on_unlabelled='skip'"):
        PoseDataset(coco, input_size=(64, 64), on_unlabelled="error")
    coco.annotations[1]["bbox"] = [500, 500, 10, 10]
    with pytest.raises(ValueError, match=r"annotation id=2 .*outside the 96×80 image"):
        PoseDataset(coco, input_size=(64, 64))
    assert len(PoseDataset(coco, input_size=(64, 64), on_bad_box="skip")) == 1
    (tmp_path / "set" / "train00003.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ImageReadError, match=r"train00003\.jpg"):
        PoseDataset(coco, input_size=(64, 64), on_bad_box="skip")[0]


def test_balanced_sampler_alternates_domains():
    sampler = BalancedBatchSampler([0, 0, 0, 0, 0, 1], 4, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 2
    domains = np.array([0, 0, 0, 0, 0, 1])
    assert all(domains[b].tolist() == [0, 1, 0, 1] for b in batches)


# ----------------------------------------------------------------------------- training


def test_frozen_blocks_keep_bn_statistics_and_weights(pose_set):
    config = tiny_config(domain_adaptation=False, epochs=1, max_steps_per_epoch=1)
    torch.manual_seed(0)
    model = PoseResNet(config.model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, pose_set, config)
    after = model.state_dict()
    for name in ("bn1.running_mean", "layer1.0.bn1.running_var", "layer2.1.conv2.weight"):
        torch.testing.assert_close(after[name], before[name])
    assert not torch.equal(after["layer3.0.bn1.running_mean"], before["layer3.0.bn1.running_mean"])
    assert not torch.equal(after["layer4.0.conv1.weight"], before["layer4.0.conv1.weight"])


def test_pose_step_leaks_no_gradient_into_classifier(pose_set):
    config = tiny_config(grl_lambda=1.0)
    torch.manual_seed(0)
    model = PoseResNet(config.model)
    classifier = build_classifier(model, config)
    batch = preload(PoseDataset(pose_set, input_size=(64, 64))).batch(range(6))
    # what stage I alone puts into the classifier's .grad: BCE on detached features
    features = model(batch["image"], return_features=True)[1].detach()
    expected = torch.autograd.grad(
        domain_loss(classifier(features), batch["domain"]), list(classifier.parameters())
    )
    frozen_classifier = torch.optim.SGD(classifier.parameters(), lr=0.0)  # keeps D fixed
    out = train_step(
        model,
        batch,
        torch.optim.Adam(model.parameters(), 1e-3),
        config,
        classifier=classifier,
        classifier_optimizer=frozen_classifier,
    )
    assert {"loss_pose", "loss_domain", "domain_acc"} <= set(out)
    # the reference's stage II would add ∂BCE/∂θ_D here (λ = 1 makes any leak obvious)
    for p, g in zip(classifier.parameters(), expected, strict=True):
        torch.testing.assert_close(p.grad, g)
    assert all(p.requires_grad for p in classifier.parameters())


def test_pre_stage_changes_only_the_classifier(pose_set):
    config = tiny_config()
    torch.manual_seed(0)
    model = PoseResNet(config.model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    real, synthetic = pose_set.filter(is_synthetic=False), pose_set.filter(is_synthetic=True)
    classifier, history = pretrain_classifier(model, real, synthetic, config)
    assert classifier(torch.randn(3, 512, 2, 2)).shape == (3,)
    assert len(history) == 1 and 0 <= history[0]["domain_acc"] <= 1
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k])


def test_resume_after_interruption_gives_the_same_model(pose_set, tmp_path):
    config = tiny_config(epochs=2, max_steps_per_epoch=2)
    val = pose_set.subset(pose_set.image_ids[:4])

    def run(directory, stop_after=None):
        torch.manual_seed(0)
        model = PoseResNet(config.model)

        def stop(epoch, record):
            if stop_after is not None and epoch == stop_after:
                raise KeyboardInterrupt

        result = fit(
            model, pose_set, config, val_set=val, checkpoint_dir=directory, on_epoch_end=stop
        )
        return model, result

    reference, ref_result = run(tmp_path / "a")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", stop_after=0)
    assert load_checkpoint(tmp_path / "b" / "last.pt")["epoch"] == 0
    resumed, result = run(tmp_path / "b")
    for k, v in reference.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[k], v, rtol=0, atol=0)
    assert [h["loss_pose"] for h in result.history] == [h["loss_pose"] for h in ref_result.history]
    best = load_model(tmp_path / "b" / "best.pt")
    assert best.config.input_size == (64, 64)
    saved = load_checkpoint(tmp_path / "b" / "best.pt")
    assert saved["config"]["grl_lambda"] == 5e-4 and saved["config"]["model"]["depth"] == 18
    with pytest.raises(ValueError, match="lr differ"):
        fit(
            PoseResNet(config.model),
            pose_set,
            config.replace(lr=0.1),
            checkpoint_dir=tmp_path / "b",
        )


def test_cached_adult_model_trains_once_and_extends_with_more_epochs(pose_set, tmp_path):
    config = tiny_config(epochs=1, max_steps_per_epoch=2, schedule="constant")
    first, result = cached_adult_model(pose_set, config, tmp_path)
    (folder,) = tmp_path.iterdir()
    assert folder.name == f"adult_18_{adult_fingerprint(pose_set, config)}"
    # Settings the adult model never uses do not make a new one; it is loaded, not retrained.
    again, again_result = cached_adult_model(pose_set, config.replace(grl_lambda=1.0), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]
    for k, v in first.state_dict().items():
        torch.testing.assert_close(again.state_dict()[k], v, rtol=0, atol=0)
    assert again_result.history == result.history
    # More epochs continue the same run; a different learning rate is another model.
    _, longer_result = cached_adult_model(pose_set, config.replace(epochs=2), tmp_path)
    assert [h["epoch"] for h in longer_result.history] == [0, 1]
    assert longer_result.history[0] == result.history[0]
    with pytest.raises(ValueError, match="holds 2 epochs, more than the 1 asked for"):
        cached_adult_model(pose_set, config, tmp_path)
    cached_adult_model(pose_set, config.replace(lr=1e-4), tmp_path)
    assert len(list(tmp_path.iterdir())) == 2


def test_adult_cache_key_covers_the_schedule_length_and_the_code(pose_set, monkeypatch):
    from infantpose.pose2d import experiment

    annealed = tiny_config(epochs=1, schedule="cosine")
    key = adult_fingerprint(pose_set, annealed)
    # with an annealed rate, another length is another model; with a constant one it is not
    assert adult_fingerprint(pose_set, annealed.replace(epochs=2)) != key
    constant = annealed.replace(schedule="constant")
    assert adult_fingerprint(pose_set, constant.replace(epochs=2)) == adult_fingerprint(
        pose_set, constant
    )
    for change in ({"codec": {"flip_shift": 1.0}}, {"augment": {"rotation_prob": 0.1}},
                   {"warmup_fraction": 0.2}, {"optimizer": "adam"}):  # fmt: skip
        assert adult_fingerprint(pose_set, annealed.replace(**change)) != key, change
    monkeypatch.setattr(experiment, "training_code_digest", lambda: "edited-train-py")
    assert adult_fingerprint(pose_set, annealed) != key


def test_adult_cache_key_does_not_depend_on_where_the_data_lies(pose_set, tmp_path):
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(pose_set.image_root, moved)
    config = tiny_config(epochs=1)
    elsewhere = type(pose_set)(
        images=pose_set.images, annotations=pose_set.annotations,
        categories=pose_set.categories, image_root=moved,
    )  # fmt: skip
    absolute = copy.deepcopy(pose_set)  # what CocoKeypoints.merge makes of sets in two folders
    for image in absolute.images:
        image["file_name"] = str(pose_set.image_path(image).resolve())
    key = adult_fingerprint(pose_set, config)
    assert adult_fingerprint(elsewhere, config) == key == adult_fingerprint(absolute, config)
    assert adult_fingerprint(pose_set.subset(pose_set.image_ids[:3]), config) != key


def test_thinned_training_sets_keep_both_domains_and_their_share(pose_set):
    thin = thin_training_set(pose_set, 0.5, seed=0)
    real = [i for i in pose_set.image_ids if pose_set.is_synthetic(i) is False]
    synthetic = [i for i in pose_set.image_ids if pose_set.is_synthetic(i) is True]
    kept = set(thin.image_ids)
    assert len(kept & set(real)) == round(len(real) / 2)
    assert len(kept & set(synthetic)) == round(len(synthetic) / 2)
    assert thin_training_set(pose_set, 0.5, seed=0).image_ids == thin.image_ids
    assert thin_training_set(pose_set, 0.5, seed=1).image_ids != thin.image_ids
    assert thin_training_set(pose_set, 1.0, seed=0) is pose_set
    with pytest.raises(ValueError, match="train_fraction"):
        thin_training_set(pose_set, 0.0, seed=0)


def test_learning_rate_warms_up_then_anneals_to_zero():
    from infantpose.pose2d.train import learning_rate_factor

    config = tiny_config(schedule="cosine", warmup_fraction=0.1)
    factors = [learning_rate_factor(step, 100, config) for step in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert max(factors) == pytest.approx(1.0) and factors[-1] < 0.001
    assert all(a >= b for a, b in itertools.pairwise(factors[9:]))
    assert learning_rate_factor(50, 100, config.replace(schedule="constant")) == 1.0


def test_selection_rule_breaks_ap_ties_by_mean_oks():
    from infantpose.pose2d.train import _selection_key

    # epoch 2 ties epoch 1 on AP but has the better OKS; epoch 3's higher AP wins over any OKS
    keys = [
        _selection_key(0.0, 0.40, 0),
        _selection_key(0.0, 0.45, 1),
        _selection_key(0.0, 0.42, 2),
    ]
    assert max(keys)[2] == 1
    assert max([*keys, _selection_key(0.01, 0.30, 3)])[2] == 3
    assert _selection_key(float("nan"), 0.5, 4) < _selection_key(0.0, 0.1, 0)


def test_fit_reports_the_chosen_epoch_and_its_validation_scores(pose_set):
    config = tiny_config(epochs=2, max_steps_per_epoch=2)
    val = pose_set.subset(pose_set.image_ids[:4])
    torch.manual_seed(0)
    result = fit(PoseResNet(config.model), pose_set, config, val_set=val)
    chosen = result.history[result.best_epoch]
    assert result.best_ap == chosen["val_ap"] or (
        result.best_ap == -1 and chosen["val_ap"] != chosen["val_ap"]
    )
    assert result.best_oks == pytest.approx(chosen["val_mean_oks"])
    keys = [(h["val_ap"], h["val_mean_oks"], h["epoch"]) for h in result.history]
    assert max(keys)[2] == result.best_epoch
    assert "validation mean OKS" in result.selection
    assert result.history[-1]["lr"] < result.history[0]["lr"]  # the cosine anneal ran


def test_tiny_end_to_end_row_and_evaluation(tmp_path):
    coco = make_pose_set(tmp_path, 12, name="train")
    test = make_pose_set(tmp_path, 4, seed=1, synthetic_every=0, name="test")
    adults = make_pose_set(tmp_path, 6, seed=2, synthetic_every=1, name="adult_syn")
    adults_real = make_pose_set(tmp_path, 6, seed=3, synthetic_every=0, name="adult_real")
    data = FidipData(coco, test, adults, adults_real, validation_fraction=0.34)
    train, val = split_validation(coco, 0.34, seed=0)
    assert not set(train.image_ids) & set(val.image_ids)
    assert all(val.is_synthetic(i) is False for i in val.image_ids)
    config = tiny_config(epochs=1, max_steps_per_epoch=2, codec={"flip_test": True})
    torch.manual_seed(0)
    adult = PoseResNet(config.model)
    row = run_experiment(TABLE_ROWS["FiDIP"], data, seed=0, config=config, adult_model=adult)
    assert 0.0 <= row.ap <= 1.0 and row.best_epoch == 0 and len(row.pre_history) == 1
    oks = instance_oks(test, row.evaluation.predictions)
    assert row.mean_oks == pytest.approx(np.nanmean(oks)) and 0.0 <= row.mean_oks <= 1.0
    assert row.evaluation.predictions.features.shape == (4, 512)
    results = row.evaluation.predictions.results()
    assert len(results) == 4 and len(results[0]["keypoints"]) == 51
    json.dumps(results)
    # adult-only: evaluation without training; predictions map back into the image
    plain = run_experiment(
        "adult-only", data, seed=0, config=config, adult_model=adult.state_dict()
    )
    assert plain.history == []
    keypoints = predict(plain.model, test).keypoints
    assert keypoints.shape == (4, 17, 3)
    assert evaluate(plain.model, test).ap.ap == pytest.approx(plain.ap, nan_ok=True)


@pytest.mark.parametrize("post", ["quarter", "dark"])
def test_oracle_heatmaps_score_full_ap(pose_set, post):
    """Targets decoded and mapped back through the crop geometry reproduce the GT (AP ≈ 1)."""
    from infantpose.metrics import keypoint_ap
    from infantpose.pose2d import final_predictions
    from infantpose.pose2d.evaluate import Predictions

    data = preload(PoseDataset(pose_set, input_size=(64, 64), unbiased=post == "dark"))
    t = data.tensors
    preds, maxvals = final_predictions(t["target"], t["center"].numpy(), t["scale"].numpy(), post)
    keypoints = np.concatenate([preds, maxvals[..., None]], -1)
    truth = pose_set.keypoints_array()[:, :, :2]
    error = np.abs(preds - truth)  # image px; one heatmap px ≈ 2.5 image px here
    assert error.max() < 3.0
    # quantised targets: up to half a heatmap pixel of rounding; DARK only skips border peaks
    assert np.median(error) < (0.05 if post == "dark" else 2.0)
    result = Predictions(
        t["image_id"].numpy(),
        keypoints,
        np.ones(len(preds)),
        t["domain"].numpy(),
        annotation_ids=t["annotation_id"].numpy(),
    )
    assert keypoint_ap(pose_set.to_dict(), result.results()).ap > 0.9
    # Each prediction is scored against its own annotation: the oracle is near 1, and moving
    # one prediction 10 px lowers only its own OKS.
    per_instance = instance_oks(pose_set, result)
    assert per_instance.shape == (pose_set.num_annotations,) and (per_instance > 0.9).all()
    result.keypoints[3, :, :2] += 10.0
    moved = instance_oks(pose_set, result)
    assert moved[3] < per_instance[3] - 0.2
    np.testing.assert_allclose(np.delete(moved, 3), np.delete(per_instance, 3))


def test_paper_gpu_flags_do_not_break_on_cpu(pose_set):
    config = tiny_config(precision="bf16", channels_last=True, epochs=1, max_steps_per_epoch=1)
    torch.manual_seed(0)
    model = PoseResNet(config.model)
    result = fit(model, pose_set, config)
    assert np.isfinite(result.history[0]["loss_pose"])
    assert model.codec == config.codec  # fit() leaves the codec it trained with on the model
    out = predict(model, pose_set, precision="bf16", channels_last=True)
    assert np.isfinite(out.keypoints).all()


@pytest.mark.skipif(torch.cuda.is_available(), reason="the error is for machines without a GPU")
def test_cuda_without_gpu_is_a_clear_error(pose_set):
    config = tiny_config(device="cuda")
    with pytest.raises(RuntimeError, match=r"no GPU.*device='cpu'"):
        fit(PoseResNet(config.model), pose_set, config)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the error is for machines without a GPU")
def test_the_paper_recipe_without_a_gpu_is_an_error_not_a_silent_cpu_run(
    pose_set, tmp_path, capsys
):
    """``fit --recipe paper`` trained on the CPU when ``--device`` was left out; now the paper
    recipe asks for CUDA and, without a GPU, stops with an error naming the keys to change."""
    from infantpose.data.coco import write_coco
    from infantpose.pose2d.__main__ import main
    from infantpose.pose2d.config import recipe_config

    assert recipe_config("paper").device == "cuda" and recipe_config("cpu").device == "cpu"
    write_coco(pose_set, tmp_path / "train.json")
    code = main(["fit", "--recipe", "paper", "--train", str(tmp_path / "train.json"),
                 "--images", str(pose_set.image_root), "--out", str(tmp_path / "out")])  # fmt: skip
    error = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "out" / "last.pt").exists()
    for hint in ("no GPU", "`device: cpu`", "parameters:", "paper-smoke", "--device cpu"):
        assert hint in error, (hint, error)


def _cli_fit(tmp_path, name, train, config, processes):
    """``python -m infantpose.pose2d fit`` in one process, or under torchrun in several."""
    import os
    import subprocess
    import sys

    from infantpose.data.coco import write_coco

    annotations = tmp_path / "train.json"
    if not annotations.exists():
        write_coco(train, annotations)
    (tmp_path / f"{name}.json").write_text(json.dumps(config))
    launcher = [sys.executable, "-m", "infantpose.pose2d"]
    if processes > 1:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                    f"--nproc_per_node={processes}", "-m", "infantpose.pose2d"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [*launcher, "fit", "--train", str(annotations), "--images", str(train.image_root),
         "--config", str(tmp_path / f"{name}.json"), "--out", str(tmp_path / name)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done, load_checkpoint(tmp_path / name / "last.pt")


def test_two_processes_under_torchrun_match_one_process(pose_set, tmp_path):
    """DDP (gloo) over 2 CPU processes with global batch 8 against one process with batch 8:
    the same samples, augmentations and averaged gradients. With every BatchNorm frozen (only
    the final layer trains) the two runs agree to float precision (relative 1e-4); with the
    whole network trained, BatchNorm normalises 4 images per process instead of 8 and Adam
    amplifies the small difference: there they must differ by under a fifth of what two seeds
    do (measured: about a tenth)."""
    config = {
        "model": {"depth": 18, "input_size": [64, 64], "deconv_channels": [32, 32, 32]},
        "epochs": 2, "batch_size": 8, "precision": None, "channels_last": False,
        "log": False, "frozen": [], "domain_adaptation": False,
    }  # fmt: skip

    def distance(a, b):
        keys = [k for k in a["model"] if a["model"][k].is_floating_point() and "running" not in k]
        return float(sum((a["model"][k] - b["model"][k]).float().norm() ** 2 for k in keys) ** 0.5)

    head_only = {**config, "frozen": [*PAPER_FROZEN, "layer3", "layer4", "deconv_layers"]}
    from infantpose.env import seed_everything

    seed_everything(0)  # the CLI's initialisation
    start = {
        "model": PoseResNet(
            TrainConfig.from_dict({**cpu_config().to_dict(), **config}).model
        ).state_dict()
    }
    _, single = _cli_fit(tmp_path, "head1", pose_set, head_only, 1)
    _, double = _cli_fit(tmp_path, "head2", pose_set, head_only, 2)
    moved = distance(start, single)
    assert moved > 0 and distance(single, double) < 1e-4 * moved
    summary = json.loads((tmp_path / "head2" / "fit.json").read_text())
    assert summary["processes"] == 2 and len(summary["history"]) == 2

    _, single = _cli_fit(tmp_path, "single", pose_set, config, 1)
    _, double = _cli_fit(tmp_path, "ddp", pose_set, config, 2)
    _, other_seed = _cli_fit(tmp_path, "seed1", pose_set, {**config, "seed": 1}, 1)
    ddp_gap, seed_gap = distance(single, double), distance(single, other_seed)
    assert ddp_gap < 0.2 * seed_gap, (ddp_gap, seed_gap)
    assert [h["loss_pose"] for h in double["history"]] == pytest.approx(
        [h["loss_pose"] for h in single["history"]], rel=0.1
    )


@pytest.mark.slow
def test_a_run_started_on_two_processes_resumes_on_one(pose_set, tmp_path):
    """The first epoch under torchrun with 2 gloo processes, the second resumed from its
    last.pt in one process (a GPU lost between the two): the global batches, optimiser state
    and schedule do not depend on the number of processes."""
    config = {
        "model": {"depth": 18, "input_size": [64, 64], "deconv_channels": [32, 32, 32]},
        "epochs": 1, "batch_size": 8, "precision": None, "channels_last": False, "log": False,
        "frozen": [], "domain_adaptation": False, "schedule": "constant", "max_steps_per_epoch": 1,
    }  # fmt: skip
    _, first = _cli_fit(tmp_path, "run", pose_set, config, 2)
    assert first["epoch"] == 0
    _, resumed = _cli_fit(tmp_path, "run", pose_set, {**config, "epochs": 2}, 1)
    summary = json.loads((tmp_path / "run" / "fit.json").read_text())
    assert resumed["epoch"] == 1 and summary["processes"] == 1
    assert [h["epoch"] for h in resumed["history"]] == [0, 1]
    assert resumed["history"][0] == first["history"][0]  # the first epoch is kept, not redone


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_a_run_resumes_on_the_gpu(pose_set, tmp_path):
    """A checkpoint loaded onto the GPU puts its RNG states there; resuming restores them."""
    config = tiny_config(device="cuda", epochs=1, max_steps_per_epoch=1, schedule="constant")
    fit(PoseResNet(config.model), pose_set, config, checkpoint_dir=tmp_path)
    result = fit(PoseResNet(config.model), pose_set, config.replace(epochs=2),
                 checkpoint_dir=tmp_path)  # fmt: skip
    assert [h["epoch"] for h in result.history] == [0, 1]


def test_distributed_launch_errors_are_clear(monkeypatch):
    from infantpose.pose2d.distributed import from_env

    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ValueError, match="multiple of the 3 processes"):
        from_env(torch.device("cpu"), batch_size=8)
    monkeypatch.setenv("WORLD_SIZE", "8")
    with pytest.raises(ValueError, match="fewer than 2 images per process"):
        from_env(torch.device("cpu"), batch_size=8)
    monkeypatch.setattr(torch.distributed, "is_gloo_available", lambda: False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(RuntimeError, match="no gloo backend"):
        from_env(torch.device("cpu"), batch_size=8)


def test_table_rows_carry_the_papers_ap_with_its_source():
    from infantpose.pose2d import PAPER_AP_SOURCE

    assert TABLE_ROWS["FiDIP"].paper_ap == 92.2 and TABLE_ROWS["fine-tuned"].paper_ap == 91.8
    assert TABLE_ROWS["real only"].paper_ap is None  # no counterpart in the paper
    assert "SyRIP Test100" in PAPER_AP_SOURCE


def test_run_table_runs_every_row_and_seed_once_and_keeps_what_it_is_asked(tmp_path):
    from infantpose.pose2d import run_table

    coco = make_pose_set(tmp_path, 12, name="train")
    test = make_pose_set(tmp_path, 4, seed=1, synthetic_every=0, name="test")
    adults = make_pose_set(tmp_path, 6, seed=2, synthetic_every=1, name="adult_syn")
    adults_real = make_pose_set(tmp_path, 6, seed=3, synthetic_every=0, name="adult_real")
    data = FidipData(coco, test, adults, adults_real, validation_fraction=0.34)
    config = tiny_config(epochs=1, max_steps_per_epoch=1)
    torch.manual_seed(0)
    adult = PoseResNet(config.model).state_dict()
    seen = []
    run = run_table(data, ["adult-only", "fine-tuned"], [0, 1], config, adult_model=adult,
                    keep=("fine-tuned",), report=lambda r: seen.append((r.name, r.seed)))  # fmt: skip
    # the untrained row runs once; the trained one with each seed, seed-major
    assert seen == [("adult-only", 0), ("fine-tuned", 0), ("fine-tuned", 1)]
    assert [(r["name"], r["seed"], r["fraction"]) for r in run.rows] == [
        ("adult-only", 0, 1.0), ("fine-tuned", 0, 1.0), ("fine-tuned", 1, 1.0)
    ]  # fmt: skip
    assert set(run.kept) == {"fine-tuned"} and run.kept["fine-tuned"].seed == 0
    assert {(h["name"], h["seed"]) for h in run.histories} == {("fine-tuned", 0), ("fine-tuned", 1)}
    with pytest.raises(ValueError, match="unknown rows"):
        run_table(data, ["fine tuned"], [0], config, adult_model=adult)
