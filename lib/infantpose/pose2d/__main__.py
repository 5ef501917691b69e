"""Train a Pose-ResNet from the command line, in one process or several under ``torchrun``.

    python -m infantpose.pose2d fit --train ANN.json --images DIR --out DIR [--val ANN.json]
    python -m infantpose.pose2d adult --profile paper
    python -m infantpose.pose2d release [--continue] [--epochs N]

``fit`` trains on any COCO keypoint file (the recipe ``cpu`` or ``paper``, changed by a JSON
file of :class:`~infantpose.pose2d.config.TrainConfig` fields) and writes ``last.pt``,
``best.pt`` and ``fit.json`` (history, chosen epoch, selection rule) into ``--out``. ``adult``
makes chapter 03's adult starting model for a profile, into the same cache the chapter reads,
so a long run can go to a GPU machine or several processes before the book is built.
``release`` makes the adult model the package ships (:mod:`.release`: hours on a CPU; run it
again after an interruption and it resumes; ``--continue`` starts from the shipped weights).

Several processes (PyTorch DDP; gloo on CPU, NCCL on GPU; ``batch_size`` is the global batch)::

    torchrun --standalone --nproc_per_node=1 -m infantpose.pose2d adult --profile paper   # one GPU
    torchrun --standalone --nproc_per_node=4 -m infantpose.pose2d adult --profile paper   # four
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import ConfigError
from ..io import atomic_path
from ..logs import OneLineArgumentParser, error_line
from .config import TrainConfig

RECIPES = ("cpu", "paper")


def _config(recipe: str, changes_file: str | None, **overrides):
    from .config import recipe_config

    changes = {}
    if changes_file:
        try:
            changes = json.loads(Path(changes_file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"{changes_file}: cannot read the config changes ({error})") from None
        if not isinstance(changes, dict):
            raise ConfigError(f"{changes_file}: expected a JSON object of TrainConfig fields")
    return recipe_config(recipe, **{**changes, **overrides})


def _fit(args: argparse.Namespace) -> None:
    from ..data.coco import read_coco
    from ..env import resolve_device, seed_everything
    from .checkpoints import load_model
    from .distributed import from_env
    from .model import PoseResNet
    from .train import fit

    config = _config(args.recipe, args.config, **({"device": args.device} if args.device else {}))
    train = read_coco(args.train, args.images)
    val = read_coco(args.val, args.val_images or args.images) if args.val else None
    context = from_env(resolve_device(config.device), config.batch_size)
    seed_everything(config.seed)
    model = PoseResNet(config.model)
    if args.init:
        model.load_state_dict(load_model(args.init).state_dict())
    out = Path(args.out)
    result = fit(model, train, config, val_set=val, checkpoint_dir=out)
    if context.is_main:
        summary = {
            "best_epoch": result.best_epoch,
            "best_val_ap": result.best_ap,
            "best_val_mean_oks": result.best_oks,
            "selection": result.selection,
            "processes": context.world_size,
            "history": result.history,
            "config": config.to_dict(),
        }
        with atomic_path(out / "fit.json") as tmp:
            Path(tmp).write_text(json.dumps(summary, indent=1), encoding="utf-8")
        print(
            f"best epoch {result.best_epoch + 1}: validation AP {result.best_ap:.4f}; wrote {out}"
        )


def adult_config(
    parameters: dict, changes_file: str | None = None, *, device: str | None = None
) -> TrainConfig:
    """The adult model's training config from a chapter's profile parameters, as the chapters
    build it (their recipe, batch and input size; the epochs are ``adult_epochs``), so that
    ``adult --profile P`` trains the model the chapters of ``P`` then find."""
    p = parameters
    return _config(
        p.get("train_config", "cpu"),
        changes_file,
        device=device or p.get("device", "cpu"),
        **({"batch_size": p["batch_size"]} if "batch_size" in p else {}),
        **({"model": {"input_size": tuple(p["input_size"])}} if "input_size" in p else {}),
    ).replace(seed=p.get("seed", 0), epochs=p.get("adult_epochs", 12))


def _adult(args: argparse.Namespace) -> None:
    from .. import config as project
    from ..env import resolve_device
    from .distributed import from_env
    from .release import starting_model

    profile = project.load_profile(args.profile)
    p = profile.parameters_for("03-fidip-training")
    config = adult_config(p, args.config, device=args.device)
    context = from_env(resolve_device(config.device), config.batch_size)
    start = starting_model(
        p.get("adult_model", "released"),
        config,
        paths=profile.paths,
        pretrain_adults=p["pretrain_adults"],
        validation_adults=p["num_adults"],
        epochs=p["adult_epochs"],
        pretrain_set=p.get("pretrain_set", "coco-like"),
        context=context,
    )
    if context.is_main:
        print(start.note)


def _release(args: argparse.Namespace) -> None:
    from .release import RELEASE_DIR, make_release, release_config

    overrides = json.loads(Path(args.config).read_text(encoding="utf-8")) if args.config else {}
    if args.device:
        overrides["device"] = args.device
    if args.epochs:
        overrides["epochs"] = args.epochs
    card = make_release(
        config=release_config(**overrides),
        continue_from_release=args.continue_from_release,
        out_dir=args.out or RELEASE_DIR,
        stop_after=args.stop_after,
        work_dir=args.work,
    )
    if card is not None:
        test, infants = card["test"], card["zero_shot_infants"]
        print(
            f"release v{card['version']}: {card['epochs_run']} of {card['epochs_planned']} epochs, "
            f"chose epoch {card['best_epoch'] + 1}; test adults AP {100 * test['ap']:.1f}, mean "
            f"OKS {100 * test['mean_oks']:.1f} %; validation infants mean OKS "
            f"{100 * infants['mean_oks']:.1f} %; wrote {args.out or RELEASE_DIR}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = OneLineArgumentParser(
        prog="python -m infantpose.pose2d", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="train on a COCO keypoint file")
    fit.add_argument("--train", required=True, help="COCO keypoint JSON to train on")
    fit.add_argument("--images", required=True, help="folder of the training images")
    fit.add_argument(
        "--val", help="COCO keypoint JSON that selects the epoch (never the test split)"
    )
    fit.add_argument("--val-images", help="folder of the validation images (default: --images)")
    fit.add_argument("--out", required=True, help="folder for last.pt, best.pt and fit.json")
    fit.add_argument("--init", help="one of our checkpoints to start from (best.pt of a run)")
    adult = sub.add_parser(
        "adult", help="chapter 03's adult starting model for a profile (its adult_model)"
    )
    adult.add_argument("--profile", default="default", help="smoke, default, paper or a YAML path")
    release = sub.add_parser("release", help="make the adult model the package ships (hours)")
    release.add_argument("--continue", dest="continue_from_release", action="store_true",
                         help="start from the shipped weights (a fresh anneal)")  # fmt: skip
    release.add_argument("--epochs", type=int, help="planned epochs of 5,000 images (default 28)")
    release.add_argument("--stop-after", type=int, help="end after this many epochs, and ship")
    release.add_argument("--out", help="folder for adult.safetensors and adult.json")
    release.add_argument(
        "--work", help="the run's checkpoint folder (default: keyed by its settings)"
    )
    fit.add_argument("--recipe", choices=RECIPES, default="cpu", help="the base config")
    for command in (fit, adult, release):
        command.add_argument("--config", help="JSON object of TrainConfig fields to change")
        command.add_argument("--device", help="cpu, cuda or auto (default: the config's)")
    args = parser.parse_args(argv)
    try:
        {"fit": _fit, "adult": _adult, "release": _release}[args.command](args)
    except KeyboardInterrupt:
        raise
    except Exception as error:  # any failure is one line and exit 2, no traceback
        print(f"error: {error_line(error)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
