"""The released adult model: it loads from the package, its card says what it is, and every bad
file is refused with the file, what differs and the fix; ``starting_model`` is the one way in."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from infantpose.config import ConfigError
from infantpose.pose2d import HeatmapCodec, PoseResNet, cpu_config, save_checkpoint
from infantpose.pose2d.release import (
    RELEASE_CARD,
    RELEASE_VERSION,
    RELEASE_WEIGHTS,
    REMAKE_COMMAND,
    ReleaseData,
    ReleaseError,
    load_release,
    make_release,
    read_card,
    release_config,
    starting_model,
)

CARD_FIELDS = (
    "version", "model", "codec", "training", "selection", "data", "epochs_planned", "epochs_run",
    "best_epoch", "validation", "history", "test", "zero_shot_infants", "compute", "commit",
    "remake", "weights",
)  # fmt: skip


def test_the_shipped_release_loads_and_fits_the_book_recipe():
    """If this fails, the package can no longer read its released model: remake it with
    ``python -m infantpose.pose2d release`` (hours on a CPU) or bump RELEASE_VERSION with a
    loader for the old files."""
    assert RELEASE_WEIGHTS.is_file() and RELEASE_CARD.is_file(), (
        f"the release is missing from the package: remake it with `{REMAKE_COMMAND}`"
    )
    model, card = load_release(config=cpu_config())
    assert set(CARD_FIELDS) <= set(card), sorted(set(CARD_FIELDS) - set(card))
    assert card["version"] == RELEASE_VERSION
    assert card["weights"]["dtype"] == "float16"
    assert RELEASE_WEIGHTS.stat().st_size <= 40 * 2**20
    assert model.config.to_dict() == cpu_config().model.to_dict()
    assert model.codec == cpu_config().codec
    assert not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # The card's curves are per epoch, and its held-out test set is not the validation set.
    assert len(card["history"]) == card["epochs_run"] >= 1
    assert {"loss_pose", "val_ap", "val_mean_oks", "seconds"} <= set(card["history"][0])
    assert card["data"]["test_records"] != card["data"]["validation_records"]
    heatmaps = model(torch.zeros(1, 3, 128, 96))
    assert heatmaps.shape == (1, 17, 32, 24) and torch.isfinite(heatmaps).all()


def _tiny_release(folder, **card_changes):
    """A release of random weights written as make_release writes one (a small architecture)."""
    from safetensors.torch import save_file

    from infantpose.pose2d.release import _sha256

    config = cpu_config(model={"deconv_channels": (16, 16, 16)})
    model = PoseResNet(config.model)
    weights, card = folder / "adult.safetensors", folder / "adult.json"
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in model.state_dict().items()}, str(weights))
    meta = {
        "version": RELEASE_VERSION,
        "model": config.model.to_dict(),
        "codec": config.codec.to_dict(),
        "weights": {"file": weights.name, "sha256": _sha256(weights)},
        **card_changes,
    }
    card.write_text(json.dumps(meta))
    return weights, card, config, model


def test_a_release_round_trips_in_half_precision(tmp_path):
    weights, card, config, model = _tiny_release(tmp_path)
    loaded, _ = load_release(weights, card, config=config)
    for key, value in model.state_dict().items():
        if value.is_floating_point():
            assert torch.equal(loaded.state_dict()[key], value.half().float()), key


@pytest.mark.parametrize(
    "damage, message",
    [
        ("missing weights", "weights are missing"),
        ("missing card", "card is missing"),
        ("truncated", "sha256"),
        ("one byte changed", "sha256"),
        ("card not json", "not a readable model card"),
        ("card without weights", "lacks"),
        ("other version", "release version"),
    ],
)
def test_a_damaged_release_is_refused_with_the_fix(tmp_path, damage, message):
    weights, card, config, _ = _tiny_release(tmp_path)
    if damage == "missing weights":
        weights.unlink()
    elif damage == "missing card":
        card.unlink()
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:1000])
    elif damage == "one byte changed":
        data = bytearray(weights.read_bytes())
        data[-10] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "card not json":
        card.write_text("{not json")
    elif damage == "card without weights":
        meta = json.loads(card.read_text())
        del meta["weights"]
        card.write_text(json.dumps(meta))
    elif damage == "other version":
        meta = json.loads(card.read_text())
        meta["version"] = RELEASE_VERSION + 1
        card.write_text(json.dumps(meta))
    with pytest.raises(ReleaseError, match=message) as error:
        load_release(weights, card, config=config)
    text = str(error.value)
    assert (REMAKE_COMMAND in text or "reinstall" in text) and "adult_model: train" in text


def test_a_release_that_does_not_fit_the_config_names_what_differs(tmp_path):
    weights, card, config, _ = _tiny_release(tmp_path)
    other = config.replace(model={"depth": 50, "input_size": (288, 384)})
    with pytest.raises(ReleaseError, match=r"model\.depth: released 18, config 50") as error:
        load_release(weights, card, config=other)
    assert "model.input_size" in str(error.value) and "adult_model: train" in str(error.value)


def test_a_card_whose_model_entry_has_no_codec_loads_with_the_cards_codec(tmp_path):
    """The shipped card's format: ``model`` (the architecture) and ``codec`` side by side."""
    weights, card, config, _ = _tiny_release(tmp_path)
    meta = json.loads(card.read_text())
    meta["model"].pop("codec", None)
    card.write_text(json.dumps(meta))
    model, _ = load_release(weights, card, config=config)
    assert model.codec == model.config.codec == config.codec == HeatmapCodec.precise()
    other = config.replace(codec={"flip_test": False})
    with pytest.raises(ReleaseError, match=r"codec\.flip_test: released True, config False"):
        load_release(weights, card, config=other)


def test_starting_model_keeps_our_checkpoints_codec_and_gives_published_weights_the_configs(
    tmp_path,
):
    config = cpu_config(model={"deconv_channels": (16, 16, 16)})
    reference = config.replace(codec=HeatmapCodec())
    model = PoseResNet(reference.model)
    ours = save_checkpoint(
        tmp_path / "best.pt", {"config": reference.to_dict(), "model": model.state_dict()}
    )
    assert starting_model(str(ours), config).model.codec == HeatmapCodec()  # as it was trained
    published = save_checkpoint(tmp_path / "published.pth", model.state_dict())
    start = starting_model(str(published), config)
    assert start.model.codec == config.codec and start.model.config.channel_order == "BGR"


def test_weights_that_are_not_safetensors_are_refused_without_unpickling(tmp_path):
    weights, card, config, model = _tiny_release(tmp_path)
    torch.save(model.state_dict(), weights)  # a pickle in the weights' place
    from infantpose.pose2d.release import _sha256

    meta = json.loads(card.read_text())
    meta["weights"]["sha256"] = _sha256(weights)
    card.write_text(json.dumps(meta))
    with pytest.raises(ReleaseError, match="not readable as safetensors"):
        load_release(weights, card, config=config)


def test_starting_model_sources(tmp_path):
    config = cpu_config(model={"deconv_channels": (16, 16, 16)})
    with pytest.raises(ConfigError, match=r"paths.pose_resnet_coco"):
        starting_model("coco", config, paths={"pose_resnet_coco": None})
    with pytest.raises(ConfigError, match="nor a checkpoint file"):
        starting_model("relased", config)
    model = PoseResNet(config.model)
    path = save_checkpoint(
        tmp_path / "best.pt", {"config": config.to_dict(), "model": model.state_dict()}
    )
    for source, paths in ((str(path), None), ("coco", {"pose_resnet_coco": str(path)})):
        start = starting_model(source, config, paths=paths)
        assert start.source == "checkpoint" and start.model.codec == config.codec
        assert torch.equal(start.model.final_layer.weight, model.final_layer.weight)


def test_starting_model_released_is_the_shipped_model():
    start = starting_model("released", cpu_config())
    assert start.source == "released" and start.card == read_card()
    assert start.note.startswith(f"released adult model v{RELEASE_VERSION}")
    assert start.history == start.card["history"]


def test_make_release_writes_a_loadable_release_and_resumes(tmp_path):
    """The command's whole path on tiny sets: render, train (interrupted, then resumed), score
    the held-out adults and the infants, write weights and card atomically."""
    data = ReleaseData(train=12, validation=6, test=6, infants_train=4, infants_validate=4)
    config = release_config(epochs=2, batch_size=4, max_steps_per_epoch=2, num_workers=0,
                            model={"deconv_channels": (16, 16, 16)})  # fmt: skip
    out, work = tmp_path / "release", tmp_path / "work"
    first = make_release(config=config, data=data, out_dir=out, work_root=work, stop_after=1,
                         progress=False)  # fmt: skip
    assert first["epochs_run"] == 1 and first["epochs_planned"] == 2
    card = make_release(config=config, data=data, out_dir=out, work_root=work, progress=False)
    assert card["epochs_run"] == 2 and card["history"][0] == first["history"][0]  # resumed
    shipped = make_release(config=config, data=data, out_dir=out, work_root=work, stop_after=1,
                           progress=False)  # fmt: skip
    assert shipped["history"] == card["history"]  # two epochs held already: nothing trained
    assert set(CARD_FIELDS) <= set(card)
    assert card["training"]["precision"] in ("fp32", "bf16")  # "auto" resolved to what ran
    assert "stand-in validation infants (4 images)" in card["zero_shot_infants"]["data"]
    _, meta = load_release(out / "adult.safetensors", out / "adult.json", config=config)
    assert meta == json.loads((out / "adult.json").read_text())
    assert not [p for p in out.iterdir() if p.suffix == ".tmp"]
    shutil.rmtree(work)


def test_starting_model_train_is_the_smoke_profiles_cached_adult_model():
    """``adult_model: train`` with smoke's sizes, as the book ran it before the release: trained
    once under the data root's cache, then loaded (the same weights)."""
    from infantpose.config import load_profile

    p = load_profile("smoke").parameters_for("03-fidip-training")
    config = cpu_config(batch_size=p["batch_size"], seed=p["seed"])
    settings = dict(pretrain_adults=p["pretrain_adults"], pretrain_set=p["pretrain_set"],
                    validation_adults=p["num_adults"], epochs=p["adult_epochs"])  # fmt: skip
    first = starting_model("train", config, **settings)
    again = starting_model("train", config, **settings)
    assert first.source == "train" and first.card is None
    assert len(first.history) == p["adult_epochs"] and first.fit.best_epoch >= 0
    assert first.note.startswith(f"adult model trained here: {p['pretrain_adults']}")
    assert torch.equal(first.model.final_layer.weight, again.model.final_layer.weight)


#: What the papers train with, as the ``paper`` profile must state it for each chapter.
PAPER = {
    "01-data-collection": {"train_config": "paper", "input_size": [288, 384], "batch_size": 85},
    "03-fidip-training": {"train_config": "paper", "input_size": [288, 384], "batch_size": 85,
                          "epochs": 80},
    "04-shift-adaptation": {"steps": 15000, "shift_batch": 32, "lr": 1e-4, "teacher_ema": 0.999,
                            "input_size": [288, 384], "batch_size": 85},
    "05-zedoi-lifting": {"experiment": "paper"},
    "06-pose-explorer": {"train_config": "paper", "input_size": [288, 384], "batch_size": 85},
}  # fmt: skip


@pytest.mark.parametrize("chapter", sorted(PAPER))
def test_the_paper_profile_states_the_papers_settings(chapter):
    """The paper profile runs the paper: no chapter falls back on its CPU-sized cell defaults."""
    from infantpose.config import load_profile
    from infantpose.pose2d.__main__ import adult_config

    p = load_profile("paper").parameters_for(chapter)
    assert {k: p.get(k) for k in PAPER[chapter]} == PAPER[chapter]
    if "train_config" in p:  # FiDIP's Pose-ResNet-50 at 288×384 (w×h), batch 85
        config = adult_config(p)
        assert (config.model.depth, config.model.input_size, config.batch_size) == (
            50, (288, 384), 85,
        )  # fmt: skip


def test_adult_command_and_every_chapter_of_a_profile_train_one_adult_model():
    """``adult --profile P`` and each chapter of P that may train the adult model (01, 03, 04,
    06) ask for the same weights: the same adult fingerprint settings."""
    from infantpose.config import PROFILE_NAMES, load_profile
    from infantpose.pose2d import recipe_config
    from infantpose.pose2d.__main__ import adult_config
    from infantpose.pose2d.experiment import _not_in_fingerprint

    def key(config):
        skip = _not_in_fingerprint(config)
        return {k: v for k, v in config.to_dict().items() if k not in skip}

    for name in PROFILE_NAMES:
        profile = load_profile(name)
        command = key(adult_config(profile.parameters_for("03-fidip-training")))
        for chapter in ("01-data-collection", "03-fidip-training", "04-shift-adaptation",
                        "06-pose-explorer"):  # fmt: skip
            p = profile.parameters_for(chapter)
            # As the chapters build it (their parameter cells' defaults where P says nothing).
            cell = {"train_config": "cpu", "batch_size": 32, "input_size": [96, 128],
                    "adult_epochs": 12, **p}  # fmt: skip
            chapter_config = recipe_config(
                cell["train_config"], device=p["device"], seed=p["seed"],
                batch_size=cell["batch_size"], model={"input_size": tuple(cell["input_size"])},
            ).replace(epochs=cell["adult_epochs"])  # fmt: skip
            assert key(chapter_config) == command, (name, chapter)
