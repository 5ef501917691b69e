"""Recipes and results in words (chapter 03's tables)."""

from __future__ import annotations

from infantpose.pose2d import (
    RECIPE_FIELDS,
    ExperimentResult,
    TrainConfig,
    cpu_config,
    describe_recipe,
    result_line,
)


def test_describe_recipe_names_every_field_from_the_config():
    paper = describe_recipe(TrainConfig())
    assert tuple(paper) == RECIPE_FIELDS
    assert paper["backbone"] == "ResNet-50"
    assert paper["input (w×h)"] == "×".join(map(str, TrainConfig().model.input_size))
    assert paper["precision"] == "fp32"  # None means fp32
    assert paper["frozen"] == "conv1, bn1, layer1, layer2"


def test_describe_recipe_shows_what_auto_precision_resolves_to():
    config = cpu_config(precision="auto")
    assert describe_recipe(config, "bf16")["precision"] == "auto: bf16 here"
    assert describe_recipe(config)["precision"] == "auto"
    assert describe_recipe(config.replace(precision=None), "bf16")["precision"] == "fp32"


def _result(best_epoch: int) -> ExperimentResult:
    return ExperimentResult(
        name="FiDIP", seed=2, ap=0.5, ap50=0.8, ap75=0.4, mean_oks=0.61, val_ap=0.25,
        val_mean_oks=0.5, best_epoch=best_epoch, history=[], pre_history=[], model=None,
        evaluation=None, config={}, spec={}, seconds=12.4,
    )  # fmt: skip


def test_result_line_gives_test_and_validation_scores_in_percent():
    line = result_line(_result(best_epoch=3))
    assert line.startswith("seed 2 ") and "FiDIP:" in line
    assert "test AP  50.0, mean OKS  61.0" in line
    assert "(validation AP  25.0, mean OKS  50.0, epoch 4, 12 s)" in line
    assert "not trained" in result_line(_result(best_epoch=-1))
