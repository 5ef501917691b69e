"""The released adult Pose-ResNet: made once with hours of compute, shipped in the package.

FiDIP starts from a COCO-trained Pose-ResNet and SHIFT from a SURREAL-trained one; nothing can
be downloaded here, so the book makes its own pretrained model, as those papers' authors did,
once, and ships it: ``released/adult.safetensors`` (fp16 weights, no pickle) beside
``released/adult.json``, its model card (the data recipe and its fingerprint, the training
config and codec, the commit, the per-epoch curves, held-out numbers, compute).

* :func:`make_release` renders the release's adults (:data:`RELEASE_DATA`, each set cached
  under the data root), trains on them until the epochs of the recipe are done (resuming an
  interrupted run from its ``last.pt``), evaluates the chosen epoch on held-out **test** adults
  that neither training nor epoch selection saw and, zero-shot, on the validation infants, and
  writes both files atomically. ``continue_from_release=True`` starts from the shipped weights
  with a fresh anneal (for another machine, or more compute); the card records it.
* :func:`load_release` reads the card, checks the weights' sha256 and architecture, and returns
  the model with its codec: a second, not a first run's 20 minutes.
* :func:`starting_model` is the one way in for chapters 01, 03, 04, 06 and the command line:
  ``adult_model: released`` (the shipped model), ``train`` (trained in the book's run, cached:
  :func:`~infantpose.pose2d.experiment.book_adult_model`), ``coco`` (the checkpoint at the
  profile's ``paths.pose_resnet_coco``) or a checkpoint path.

Remake (2 CPU cores: hours; see the card for the measured time)::

    python -m infantpose.pose2d release            # or: torchrun ... -m infantpose.pose2d release
    python -m infantpose.pose2d release --continue --epochs 20   # more, from the shipped weights
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..config import ConfigError
from ..io import atomic_path, json_digest, write_json_atomic
from .config import SELECTION, TrainConfig, cpu_config
from .model import PoseResNet, PoseResNetConfig

__all__ = [
    "RELEASE_CARD",
    "RELEASE_DATA",
    "RELEASE_DIR",
    "RELEASE_VERSION",
    "RELEASE_WEIGHTS",
    "REMAKE_COMMAND",
    "ReleaseError",
    "StartingModel",
    "card_summary",
    "gpu_estimate",
    "load_release",
    "make_release",
    "read_card",
    "release_config",
    "starting_model",
    "training_flops",
]

log = logging.getLogger(__name__)

#: The release's version: loading compares the card's to it, never a hash of the code, so
#: editing ``pose2d`` keeps the shipped model (a change that breaks loading fails a test).
RELEASE_VERSION = 1
RELEASE_DIR = Path(__file__).resolve().parent / "released"
RELEASE_WEIGHTS = RELEASE_DIR / "adult.safetensors"
RELEASE_CARD = RELEASE_DIR / "adult.json"
REMAKE_COMMAND = "python -m infantpose.pose2d release"
#: What a source of the starting model may be, besides a checkpoint path.
SOURCES = ("released", "train", "coco")


class ReleaseError(ConfigError):
    """The released model cannot be used: missing, altered, or not what the config asks for."""


@dataclass(frozen=True)
class ReleaseData:
    """The adult sets of the release: ``pretrain_set`` mixes (:data:`~infantpose.synthesis.adults.ADULT_PRETRAINING_SETS`)
    rendered with different seeds, so no image is in two of them."""

    pretrain_set: str = "release"
    train: int = 10_000
    train_seed: int = 1
    validation: int = 500  # picks the epoch
    validation_seed: int = 3
    test: int = 500  # picks nothing: the card's held-out number
    test_seed: int = 5
    # The zero-shot infants: chapter 01's stand-in validation split of the default profile.
    infants_train: int = 300
    infants_validate: int = 100
    infants_seed: int = 0


RELEASE_DATA = ReleaseData()

#: Why the release is what it is (written into the card). Step costs per image at batch 32,
#: measured by benchmarks/bench_release.py against the release's architecture in one process.
RELEASE_CHOICES = {
    "architecture": "ResNet-18 with 128-channel deconvolutions at 96×128 (w×h): the input every "
    "chapter fine-tunes at, so the book's hour keeps its size. A training step costs per image, "
    "against it: a 256-channel head 1.3×, ResNet-34 2.3×, a square 128×128 input 1.3×, "
    "ResNet-50 with the paper's head 3.6× (bf16 on an AMX CPU, where bf16 is 1.6× faster than "
    "fp32; bench_release). No accuracy pilot of those was run for release 1: each would also "
    "cost every chapter's fine-tuning as much.",
    "data": "10,000 adults, all in the infants' 640×480 frames: 40 % upright SURREAL-like, 30 % "
    "on the floor (lying, sitting, kneeling, on all fours), 30 % with the photo look in every "
    "posture; augmentation (scale, rotation, flip) each epoch.",
    "length": "epochs of 5,000 images, validated and checkpointed after each; the number of "
    "epochs is what the compute at hand allowed, the anneal sized to it (the card's curve says "
    "whether more would pay).",
    "precision": "bf16 autocast where the CPU has AMX or AVX-512 BF16, else fp32; weights "
    "shipped in fp16 (the card gives the test scores of both).",
}


def release_config(**changes: Any) -> TrainConfig:
    """The release's training recipe: the CPU recipe (:func:`~infantpose.pose2d.config.cpu_config`:
    ResNet-18 at 96×128, the precise codec, AdamW with a warm-up and a cosine anneal) at the
    input size every chapter uses, with epochs of 5,000 images (``max_steps_per_epoch``), so
    the curve is read and the run checkpointed every few minutes; images are decoded per
    step (10,000 decoded 640×480 frames would take 9 GB) with one loader worker."""
    base = cpu_config(epochs=28, max_steps_per_epoch=156, cache_images=False, num_workers=1,
                      frozen=(), domain_adaptation=False)  # fmt: skip
    return base.replace(**changes) if changes else base


@dataclass
class StartingModel:
    """The adult model a chapter starts from, and where it came from (``note``: one line)."""

    model: PoseResNet
    source: str
    note: str
    fit: Any = None  # the FitResult, when trained in the book's run
    card: dict[str, Any] | None = None  # the model card, when released
    history: list[dict[str, float]] = field(default_factory=list)


# -- loading -------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_card(card: str | os.PathLike = RELEASE_CARD) -> dict[str, Any]:
    """The model card of a release (JSON), checked for the fields :func:`load_release` needs."""
    card = Path(card)
    fix = (
        f"reinstall the package, or remake it with `{REMAKE_COMMAND}`, or set `adult_model: train`"
    )
    if not card.is_file():
        raise ReleaseError(f"{card}: the released adult model's card is missing; {fix}")
    try:
        data = json.loads(card.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReleaseError(f"{card}: not a readable model card ({error}); {fix}") from None
    missing = [k for k in ("version", "model", "codec", "weights") if k not in data]
    if not isinstance(data, dict) or missing:
        raise ReleaseError(f"{card}: the model card lacks {missing or 'its fields'}; {fix}")
    if data["version"] != RELEASE_VERSION:
        raise ReleaseError(
            f"{card}: release version {data['version']!r}, but this package reads version "
            f"{RELEASE_VERSION}; remake it with `{REMAKE_COMMAND}` or set `adult_model: train`"
        )
    return data


def load_release(
    weights: str | os.PathLike = RELEASE_WEIGHTS,
    card: str | os.PathLike = RELEASE_CARD,
    *,
    config: TrainConfig | None = None,
    device: str | torch.device = "cpu",
) -> tuple[PoseResNet, dict[str, Any]]:
    """The released model (fp32, in eval mode, its config's codec from the card) and its card.

    The weights' sha256 must be the card's (a truncated or altered file is refused before it
    is read), they load through ``safetensors`` (no pickle), and when ``config`` is given its
    model and codec must be the card's: a difference is named, with the fix.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .checkpoints import CheckpointMismatchError, check_state

    meta = read_card(card)
    weights = Path(weights)
    fix = f"remake it with `{REMAKE_COMMAND}`, or set `adult_model: train` in the profile"
    if not weights.is_file():
        raise ReleaseError(f"{weights}: the released adult model's weights are missing; {fix}")
    found, wanted = _sha256(weights), meta["weights"].get("sha256")
    if found != wanted:
        raise ReleaseError(
            f"{weights}: sha256 {found[:16]}… differs from the card's {str(wanted)[:16]}… "
            f"({Path(card).name}): the file was altered or cut short; reinstall the package or {fix}"
        )
    model_config = _card_model(meta, card)
    if config is not None:
        differ = _differences(model_config, config.model)
        if differ:
            said = "; ".join(f"{k}: released {a!r}, config {b!r}" for k, (a, b) in differ.items())
            raise ReleaseError(
                f"{weights}: the released model does not fit this config ({said}); use the "
                "release's architecture (input_size, depth) in the profile, or set "
                "`adult_model: train` to train one that fits"
            )
    try:
        state = load_file(weights, device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise ReleaseError(f"{weights}: not readable as safetensors ({error}); {fix}") from None
    model = PoseResNet(model_config)
    try:
        state = check_state(model, {k: v.float() if v.is_floating_point() else v
                                    for k, v in state.items()})  # fmt: skip
    except CheckpointMismatchError as error:
        raise ReleaseError(f"{weights}: {error}; {fix}") from None
    model.load_state_dict(state)
    return model.to(device).eval(), meta


def _card_model(card: dict[str, Any], where: str | os.PathLike) -> PoseResNetConfig:
    """The model config of a card, codec included: the card keeps the codec in its own
    ``codec`` entry (cards written before the codec became part of the model's config have it
    only there; later ones have it in ``model`` too, from the same config)."""
    return PoseResNetConfig.from_dict({**card["model"], "codec": card["codec"]}, f"{where}: model")


def _differences(released: PoseResNetConfig, wanted: PoseResNetConfig) -> dict[str, tuple]:
    """``{"model.depth": (released, wanted), "codec.flip_test": …}`` for every field that differs."""
    a, b = released.to_dict(), wanted.to_dict()
    codec_a, codec_b = a.pop("codec"), b.pop("codec")
    differ = {f"model.{k}": (v, b[k]) for k, v in a.items() if b[k] != v}
    return differ | {f"codec.{k}": (v, codec_b[k]) for k, v in codec_a.items() if codec_b[k] != v}


def starting_model(
    source: str,
    config: TrainConfig,
    *,
    paths: dict[str, Any] | None = None,
    pretrain_adults: int = 3000,
    pretrain_set: str = "coco-like",
    validation_adults: int = 300,
    epochs: int = 12,
    progress: bool = False,
    context: Any = None,
) -> StartingModel:
    """The adult model chapters 01, 03, 04 and 06 start from, by the profile's ``adult_model``:

    * ``released``: the shipped model (:func:`load_release`; its architecture must be
      ``config``'s);
    * ``train``: trained in the book's run on ``pretrain_adults`` adults of ``pretrain_set``
      for ``epochs``, its epoch chosen on ``validation_adults`` adults, cached
      (:func:`~infantpose.pose2d.experiment.book_adult_model`);
    * ``coco``: the published checkpoint at ``paths["pose_resnet_coco"]``; or a path to a
      checkpoint (ours, Microsoft's or mmpose's) at ``config``'s input size. Ours carries its
      codec; a published one is read with ``config``'s.
    """
    from .checkpoints import NotOurCheckpointError, load_model, load_published

    if source == "released":
        model, card = load_release(config=config, device="cpu")
        test = card.get("test", {})
        note = (
            f"released adult model v{card['version']} ({card['model']['depth']} layers, "
            f"{card['model']['input_size'][0]}×{card['model']['input_size'][1]}): test adults "
            f"AP {100 * test.get('ap', math.nan):.1f}, mean OKS "
            f"{100 * test.get('mean_oks', math.nan):.1f} %"
        )
        return StartingModel(model, source, note, card=card, history=card.get("history", []))
    if source == "train":
        from .experiment import book_adult_model

        model, fit = book_adult_model(
            config, pretrain_adults=pretrain_adults, validation_adults=validation_adults,
            epochs=epochs, pretrain_set=pretrain_set, progress=progress, context=context,
        )  # fmt: skip
        note = (
            f"adult model trained here: {pretrain_adults} {pretrain_set} adults, epoch "
            f"{fit.best_epoch + 1} of {len(fit.history)}, validation AP {100 * fit.best_ap:.1f}"
        )
        return StartingModel(model, source, note, fit=fit, history=fit.history)
    path = source
    if source == "coco":
        path = (paths or {}).get("pose_resnet_coco")
        if not path:
            raise ConfigError(
                "adult_model: coco, but the profile's `paths.pose_resnet_coco` is not set; set it "
                "to a COCO Pose-ResNet checkpoint, or use `adult_model: released`"
            )
    if not Path(path).is_file():
        raise ConfigError(
            f"adult_model: {source!r} is not one of {', '.join(SOURCES)} nor a checkpoint file; "
            "use `released` (the shipped model), `train`, `coco` or a path to a checkpoint"
        )
    try:  # one of ours first (it carries its config and codec), else a published layout
        model = load_model(path)
    except NotOurCheckpointError:
        model = load_published(path, input_size=config.model.input_size, codec=config.codec)
    return StartingModel(model, "checkpoint", f"adult model: {path}")


# -- reading a card ------------------------------------------------------------------------


def card_summary(card: dict[str, Any]) -> dict[str, str]:
    """The card in words, one line per subject (chapter 03 shows it as a table)."""
    recipe, test, infants = card["data"]["recipe"], card["test"], card["zero_shot_infants"]
    training, compute = card["training"], card["compute"]
    model = card["model"]
    hours = compute["seconds"] / 3600
    pct = lambda x: f"{100 * x:.1f}"  # noqa: E731
    return {
        "architecture": f"Pose-ResNet-{model['depth']}, deconvolutions {model['deconv_channels']}, "
        f"input {model['input_size'][0]}×{model['input_size'][1]} (w×h)",
        "training data": f"{card['data']['train_images']:,} rendered adults, mix "
        f"{recipe['pretrain_set']!r} (seed {recipe['train_seed']}); records {card['data']['train_records']}",
        "training": f"{training['optimizer']} lr {training['lr']:g}, {training['schedule']} schedule, "
        f"batch {training['batch_size']}, {training['precision']}; {card['epochs_run']} of "
        f"{card['epochs_planned']} epochs of {training['max_steps_per_epoch'] * training['batch_size']:,} "
        "images" + (" (continued from an earlier release)" if card.get("continued_from") else ""),
        "epoch chosen": f"{card['best_epoch'] + 1}, by {card['selection'].split(' by ', 1)[-1]}",
        "validation adults": f"{recipe['validation']} (seed {recipe['validation_seed']}): AP "
        f"{pct(card['validation']['ap'])}, mean OKS {pct(card['validation']['mean_oks'])} %",
        "test adults (chose nothing)": f"{recipe['test']} (seed {recipe['test_seed']}): AP "
        f"{pct(test['ap'])}, AP50 {pct(test['ap50'])}, mean OKS {pct(test['mean_oks'])} %",
        "zero-shot infants": f"{infants['data']}: AP {pct(infants['ap'])}, mean OKS "
        f"{pct(infants['mean_oks'])} %",
        "compute": f"{hours:.1f} h on {compute['processes']} process(es) × "
        f"{compute['machine']['torch_threads']} thread(s), {compute['cpu_hours']:.1f} CPU-hours, "
        f"{compute['device']} ({compute['machine']['cpu']}, {compute['machine']['cores']} cores)",
        "weights": f"{card['weights']['file']}, {card['weights']['dtype']}, "
        f"{card['weights']['bytes'] / 2**20:.1f} MiB, sha256 {card['weights']['sha256'][:16]}…",
        "made by": f"{card['remake']}, at commit {str(card['commit'])[:12]}",
    }


def training_flops(config: PoseResNetConfig) -> float:
    """Floating-point operations of one training image (forward + backward), counted by
    :class:`torch.utils.flop_counter.FlopCounterMode` on a batch of 2."""
    from torch.utils.flop_counter import FlopCounterMode

    model = PoseResNet(config)
    w, h = config.input_size
    x = torch.randn(2, 3, h, w)
    with FlopCounterMode(display=False) as counter:
        model(x).square().mean().backward()
    return counter.get_total_flops() / 2


def gpu_estimate(
    card: dict[str, Any],
    *,
    peak_tflops: float = 989.0,
    utilisation: float = 0.3,
    sample_ms: float = 3.75,
    loader_cores: int = 16,
) -> dict[str, float]:
    """What the card's run would take on one GPU, estimated, not measured: its training images
    × :func:`training_flops` at ``utilisation`` of ``peak_tflops`` (an H100's dense bf16 peak),
    against the data loader's time, ``sample_ms`` of CPU per training sample (JPEG decoding,
    augmentation, warp, targets: 3.75 ms measured by benchmarks/bench_release.py on the
    release's 640×480 renders) spread over ``loader_cores`` worker cores."""
    training = card["training"]
    steps = card["data"]["train_images"] // training["batch_size"]
    steps = min(steps, training["max_steps_per_epoch"] or steps)
    images = steps * training["batch_size"] * len(card["history"])
    flops = training_flops(PoseResNetConfig.from_dict(card["model"]))
    return {
        "images": images,
        "gflops_per_image": flops / 1e9,
        "gpu_seconds": images * flops / (peak_tflops * 1e12 * utilisation),
        "loader_seconds": images * sample_ms / 1000 / loader_cores,
        "loader_cores": loader_cores,
    }


# -- making --------------------------------------------------------------------------------


def _commit() -> str:
    """The full commit of the package's checkout, ``+dirty`` when its code has changed."""
    from ..env import git_commit

    here = Path(__file__).resolve().parent
    return git_commit(here, short=False, paths=(here.parent,))


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version()}  # fmt: skip
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _records_digest(coco) -> str:
    return json_digest([[{**i, "file_name": Path(i["file_name"]).name} for i in coco.images],
                        coco.annotations])  # fmt: skip


def _scores(evaluation) -> dict[str, float]:
    ap = evaluation.ap
    return {"ap": ap.ap, "ap50": ap.ap50, "ap75": ap.ap75, "mean_oks": evaluation.mean_oks}


def release_sets(data: ReleaseData = RELEASE_DATA, *, progress: bool = False):
    """``(train, validation, test)`` adults of the release, each made once and cached."""
    from ..synthesis.adults import adult_pretraining_set

    return tuple(
        adult_pretraining_set(data.pretrain_set, count, seed, progress=progress)
        for count, seed in ((data.train, data.train_seed), (data.validation, data.validation_seed),
                            (data.test, data.test_seed))
    )  # fmt: skip


def make_release(
    *,
    config: TrainConfig | None = None,
    data: ReleaseData = RELEASE_DATA,
    continue_from_release: bool = False,
    out_dir: str | os.PathLike = RELEASE_DIR,
    work_root: str | os.PathLike | None = None,
    work_dir: str | os.PathLike | None = None,
    stop_after: int | None = None,
    progress: bool = True,
) -> dict[str, Any] | None:
    """Train the release and write ``adult.safetensors`` + ``adult.json`` into ``out_dir``.

    The run's checkpoints live in ``<data>/cache/pose2d/release_v<version>_<key>`` (the key:
    the config, the data recipe and the starting weights), so running the command again after
    an interruption resumes it; ``work_dir`` names that folder instead (a run whose code or
    config format changed since it started). ``stop_after`` (epochs) ends the run early (at once when an
    interrupted run already holds that many epochs) and still writes the
    release from the best epoch so far (the card says how many of the planned epochs ran).
    Returns the card (None on ranks other than 0 under ``torchrun``).
    """
    from safetensors.torch import save_file

    from ..config import data_root
    from ..env import resolve_device, seed_everything
    from ..synthesis.standin import load_infant_images
    from .distributed import from_env
    from .evaluate import evaluate
    from .experiment import render_timeout_s
    from .runtime import resolve_precision
    from .train import fit

    config = config or release_config()
    commit = _commit()  # the code that trains, not the code at the end of a run of hours
    device = resolve_device(config.device)
    # "auto" precision becomes what this machine runs (bf16 where the CPU has AMX or AVX-512
    # BF16, else fp32), so the key and the card say what really ran.
    config = config.replace(precision=resolve_precision(device, config.precision))
    context = from_env(device, config.batch_size)
    start_card = read_card() if continue_from_release else None
    images = data.train + data.validation + data.test
    train, validation, test = context.main_first(  # rank 0 renders; the others then read them
        lambda: release_sets(data, progress=progress and context.is_main),
        timeout_s=render_timeout_s(images),
        what="the release's adult sets",
    )
    key = json_digest([config.to_dict(), data.__dict__, _records_digest(train),
                       start_card and start_card["weights"]["sha256"]])  # fmt: skip
    root = Path(work_root) if work_root else data_root() / "cache" / "pose2d"
    work = Path(work_dir) if work_dir else root / f"release_v{RELEASE_VERSION}_{key}"
    seed_everything(config.seed)
    model = PoseResNet(config.model)
    if start_card is not None:
        released, _ = load_release(config=config)
        model.load_state_dict(released.state_dict())

    def stop(epoch: int, record: dict[str, float]) -> None:
        if stop_after is not None and epoch + 1 >= stop_after:
            raise _StopEarly

    from .checkpoints import load_checkpoint

    done = load_checkpoint(work / "last.pt")["epoch"] + 1 if (work / "last.pt").exists() else 0
    # The code that trained is the code the run started with, also when it is resumed later.
    started = work / "run.json"
    if done == 0 or not started.exists():
        write_json_atomic(started, {"commit": commit, "machine": _machine()})
    trained_by = json.loads(started.read_text(encoding="utf-8"))
    result = None
    if stop_after is None or done < stop_after:  # else: ship what the interrupted run reached
        try:
            result = fit(model, train, config, val_set=validation, checkpoint_dir=work,
                         on_epoch_end=stop)  # fmt: skip
        except _StopEarly:
            pass
    if not context.is_main:
        return None
    if result is None:  # stopped early: the best epoch so far, from the checkpoint
        saved = load_checkpoint(work / "last.pt")
        history, best = saved["history"], saved["best"]
        model.load_state_dict(best["model"])
        best_epoch, best_ap, best_oks = best["epoch"], best["ap"], best["oks"]
    else:
        history, best_epoch = result.history, result.best_epoch
        best_ap, best_oks = result.best_ap, result.best_oks
    seconds = float(sum(h.get("seconds", 0.0) for h in history))  # resumed runs included
    model.cpu().eval()
    half = {k: (v.half() if v.is_floating_point() else v).contiguous()
            for k, v in model.state_dict().items()}  # fmt: skip
    shipped = PoseResNet(config.model)
    shipped.load_state_dict({k: v.float() for k, v in half.items()})
    shipped.codec = config.codec

    def scores(coco) -> dict[str, float]:
        return _scores(evaluate(shipped, coco, codec=config.codec, device=config.device))

    infants, kind = load_infant_images("default", train=data.infants_train,
                                       validate=data.infants_validate, seed=data.infants_seed)  # fmt: skip
    fp32 = _scores(evaluate(model, test, codec=config.codec, device=config.device))
    out_dir = Path(out_dir)
    weights = out_dir / RELEASE_WEIGHTS.name
    with atomic_path(weights) as tmp:
        save_file(
            half, str(tmp), metadata={"format": "pt", "release_version": str(RELEASE_VERSION)}
        )
    card = {
        "version": RELEASE_VERSION,
        "what": "Pose-ResNet adult model: the starting point of chapters 01, 03, 04 and 06",
        "model": config.model.to_dict(),
        "codec": config.codec.to_dict(),
        "training": config.to_dict(),
        "selection": f"epoch chosen on the validation adults by {SELECTION}",
        "choices": RELEASE_CHOICES,
        "data": {
            "recipe": data.__dict__,
            "train_images": train.num_images,
            "train_records": _records_digest(train),
            "validation_records": _records_digest(validation),
            "test_records": _records_digest(test),
            "note": "rendered adults (anny + pyrender), made by infantpose.synthesis.adults",
        },
        "epochs_planned": config.epochs,
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "validation": {"ap": best_ap, "mean_oks": best_oks},
        "history": history,
        "test": scores(test),
        "test_fp32": fp32,
        "zero_shot_infants": {
            "data": f"{kind} stand-in validation infants"
            f" ({infants['validate_infant'].num_images} images)",
            **scores(infants["validate_infant"]),
        },
        "continued_from": None
        if start_card is None
        else {
            "sha256": start_card["weights"]["sha256"],
            "epochs_run": start_card.get("epochs_run"),
            "note": "started from the released weights with a fresh warm-up and anneal",
        },
        "compute": {
            "seconds": seconds,
            "processes": context.world_size,
            "cpu_hours": seconds * context.world_size * torch.get_num_threads() / 3600,
            "device": str(resolve_device(config.device)),
            "machine": _machine(),
        },
        "commit": trained_by["commit"],
        "exported_at_commit": commit,
        "remake": REMAKE_COMMAND,
        "weights": {
            "file": weights.name,
            "dtype": "float16",
            "bytes": weights.stat().st_size,
            "sha256": _sha256(weights),
        },
    }
    write_json_atomic(out_dir / RELEASE_CARD.name, card)
    return card


class _StopEarly(Exception):
    pass
