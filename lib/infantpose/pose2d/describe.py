"""Pose-ResNet runs in words: a training recipe as a table column, a finished row as a line.

Chapter 03 prints both; they live here so that the chapter defines no function of its own and
the wording is tested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .config import TrainConfig
    from .experiment import ExperimentResult

__all__ = ["RECIPE_FIELDS", "describe_recipe", "print_result", "result_line"]

#: The rows of :func:`describe_recipe`, in order.
RECIPE_FIELDS = (
    "backbone", "input (w×h)", "heatmaps", "σ", "deconvolutions", "codec", "optimiser",
    "batch", "epochs (infants)", "precision", "λ (GRL)", "frozen",
)  # fmt: skip


def describe_recipe(config: TrainConfig, precision_here: str | None = None) -> dict[str, Any]:
    """:data:`RECIPE_FIELDS` → the value ``config`` gives it. ``precision_here`` is what
    ``precision="auto"`` resolves to on this machine
    (:func:`~infantpose.pose2d.runtime.resolve_precision`), shown beside "auto" when given."""
    codec, model = config.codec, config.model
    flip = f"shifted {codec.flip_shift} px" if codec.flip_test else "off"
    warmup = f" after {config.warmup_fraction:.0%} warm-up" if config.warmup_fraction else ""
    if config.precision == "auto" and precision_here is not None:
        precision = f"auto: {precision_here} here"
    else:
        precision = config.precision or "fp32"
    values = [
        f"ResNet-{model.depth}",
        "×".join(map(str, model.input_size)),
        "×".join(map(str, model.heatmap_size)),
        config.heatmap_sigma,
        str(model.deconv_channels),
        f"{codec.targets} targets, {codec.decoding} decoding, flip test {flip}",
        f"{config.optimizer}, lr {config.lr:g}, weight decay {config.weight_decay:g}, "
        f"{config.schedule}{warmup}",
        config.batch_size,
        config.epochs,
        precision,
        config.grl_lambda,
        ", ".join(config.frozen),
    ]
    return dict(zip(RECIPE_FIELDS, values, strict=True))


def result_line(result: ExperimentResult) -> str:
    """One trained row and seed: test AP and mean OKS, the chosen epoch's validation scores
    and the time it took (percentages)."""
    chosen = f"epoch {result.best_epoch + 1}" if result.best_epoch >= 0 else "not trained"
    return (
        f"seed {result.seed} {result.name:>24}: test AP {100 * result.ap:5.1f}, mean OKS "
        f"{100 * result.mean_oks:5.1f}  (validation AP {100 * result.val_ap:5.1f}, mean OKS "
        f"{100 * result.val_mean_oks:5.1f}, {chosen}, {result.seconds:.0f} s)"
    )


def print_result(result: ExperimentResult) -> None:
    """:func:`result_line`, printed: the ``report`` of :func:`~.experiment.run_table` in the book."""
    print(result_line(result))
