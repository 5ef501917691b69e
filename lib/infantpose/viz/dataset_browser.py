"""The dataset browser: page through the book's datasets with ground truth, every model's
predictions and each image's OKS; filter by dataset, domain and posture; worst images first.

A :class:`BrowserSource` is one dataset (a COCO set) with the predictions of the models that
were run on it. The loaders (:func:`standin_source`, :func:`synthetic_source`,
:func:`adult_source`, :func:`real_source`) load or make a set, or raise :class:`MissingInput`
naming the chapter or config key that makes it; :func:`collect_sources` gathers them and keeps
what is missing as messages. :func:`add_model` predicts with a model in memory (the cached
adult model); :func:`add_saved` reads a chapter's saved predictions
(:mod:`infantpose.pose2d.predictions`). :func:`browse_table` has one row per annotation with
its OKS under each model; :func:`browser_static` is the book's static view, :class:`DatasetBrowser`
the live one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..data.coco import CocoKeypoints
from ..keypoints import COCO17
from ..pose2d.evaluate import Predictions, instance_oks, predict
from ..pose2d.predictions import PredictionsError, predictions_for
from .colors import PREDICTION_COLOR
from .explorer_base import (
    MissingInput,
    add_slider_frames,
    image_uri,
    message_html,
    skeleton_traces_2d,
)

__all__ = [
    "MODEL_COLORS",
    "BrowserSource",
    "DatasetBrowser",
    "add_model",
    "add_saved",
    "adult_source",
    "browse_table",
    "browser_figure",
    "browser_static",
    "collect_sources",
    "missing_html",
    "real_source",
    "select_rows",
    "standin_source",
    "synthetic_source",
]

#: One colour per model's predictions (outside the skeleton palette; ground truth is drawn in
#: the limb colours).
MODEL_COLORS = {"adult model": PREDICTION_COLOR, "FiDIP": "#009E73", "SHIFT": "#000000"}
_EXTRA_COLORS = ("#F0E442", "#7F3C8D", "#11A579")
_PANEL = 256  # pixels of a browser panel (square)


@dataclass
class BrowserSource:
    """A dataset to browse: ``population`` is ``infant`` or ``adult``; ``data`` ``embedded``
    (rendered here) or ``real``; ``split`` ``test`` for the infant test split (the one the
    chapters' saved predictions are of); ``full`` the set before ``coco`` was cut to the
    browser's size; ``predictions`` by model name; ``notes`` by model name: where each model's
    predictions come from, or why they are missing."""

    name: str
    population: str
    coco: CocoKeypoints
    data: str = "embedded"
    split: str = ""
    full: CocoKeypoints | None = None
    predictions: dict[str, Predictions] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def _limit(coco: CocoKeypoints, limit: int | None) -> CocoKeypoints:
    if limit is None or coco.num_images <= limit:
        return coco
    return coco.subset(coco.image_ids[:limit])


def standin_source(profile: str, *, train: int, validate: int, seed: int = 0,
                   limit: int | None = None) -> BrowserSource:  # fmt: skip
    """The infant test images of ``profile``: the rendered stand-in (made once, chapter 01's),
    or SyRIP's test split when ``paths.syrip`` is set."""
    from ..synthesis.standin import load_infant_images

    sets, kind = load_infant_images(profile, train=train, validate=validate, seed=seed)
    name = "SyRIP test (real)" if kind == "real" else "stand-in infants (test split)"
    test = sets["validate_infant"]
    return BrowserSource(name, "infant", _limit(test, limit), kind, "test", test)


def synthetic_source(num_source_poses: int, rotations: int, seed: int = 0,
                     limit: int | None = None) -> BrowserSource:  # fmt: skip
    """FiDIP's synthetic infants, as chapter 02 made them (they take a body fit to make, so
    this reads them or says how to make them)."""
    from ..synthesis.cache import load_made
    from ..synthesis.infants import infants_root

    root = infants_root(num_source_poses, rotations, seed)
    try:
        coco = load_made(root, "the synthetic infants")
    except FileNotFoundError as error:
        raise MissingInput(
            f"FiDIP's synthetic infants ({root.name})",
            "Chapter 02 makes them: python -m infantpose.book run --profile <profile> --only "
            "02-smil-synthesis (num_source_poses and rotations as in this chapter's parameters).",
            str(error).split(":")[0],
        ) from None
    return BrowserSource("synthetic infants (chapter 02)", "infant", _limit(coco, limit))


def adult_source(num_adults: int, seed: int = 0, limit: int | None = None) -> BrowserSource:
    """Chapter 02's SURREAL-like adults (made here if missing)."""
    from ..synthesis.adults import adult_set

    coco = adult_set("surreal", num_adults, seed)
    return BrowserSource("SURREAL-like adults (chapter 02)", "adult", _limit(coco, limit))


def real_source(profile: str, limit: int | None = None) -> BrowserSource:
    """SyRIP's test split when the profile sets ``paths.syrip``, else a :class:`MissingInput`
    naming the config key (and the same when the folder is not there)."""
    from ..config import load_profile, profile_path
    from ..data.syrip import load_syrip

    root = load_profile(profile).paths.get("syrip")
    where = profile_path(profile)
    if not root:
        raise MissingInput(
            "The real infant dataset (SyRIP)",
            f"Set paths.syrip in {where} to the folder of the SyRIP release (licence-gated; see "
            "chapter 01, 'The datasets of the book').",
        )
    if not Path(os.path.expanduser(str(root))).is_dir():
        raise MissingInput(
            f"The real infant dataset (SyRIP) at {root}",
            f"paths.syrip in {where} names a folder that does not exist; fix the path.",
        )
    coco = load_syrip(root, "validate_infant")
    return BrowserSource("SyRIP test (real)", "infant", _limit(coco, limit), "real", "test", coco)


def collect_sources(
    loaders: Mapping[str, Callable[[], BrowserSource]],
) -> tuple[list[BrowserSource], dict[str, str]]:
    """Run each loader: ``(sources, missing)``, ``missing`` mapping a name to its message.

    Only :class:`MissingInput`, a missing file and a config error become messages; anything
    else is a bug and raises."""
    from ..config import ConfigError

    sources, missing = [], {}
    for name, load in loaders.items():
        try:
            sources.append(load())
        except MissingInput as error:
            missing[name] = str(error)
        except (FileNotFoundError, ConfigError) as error:
            missing[name] = str(
                MissingInput(name, "See the message for the file and the fix.", str(error))
            )
    return sources, missing


def add_model(source: BrowserSource, name: str, model: Any, note: str = "", **kwargs: Any) -> None:
    """Predict ``source``'s annotations with ``model`` (GT boxes, its own codec)."""
    source.predictions[name] = predict(model, source.coco, **kwargs)
    source.notes[name] = note or f"{name}: predicted here"


def add_saved(source: BrowserSource, name: str, run_dir: str | os.PathLike, row: str,
              made_by: str) -> bool:  # fmt: skip
    """Add row ``row`` of the predictions a chapter saved in ``run_dir`` as model ``name``.

    Saved predictions are of the infant test split only: on any other source this does
    nothing. Missing or unusable predictions become a note saying which chapter makes them
    (``made_by``); returns whether they were added."""
    if source.split != "test":
        return False
    try:
        saved = predictions_for(run_dir, source.full or source.coco)
    except PredictionsError as error:
        source.notes[name] = str(MissingInput(f"{name}'s predictions", made_by, str(error)))
        return False
    if row not in saved:
        found = ", ".join(saved) or "none"
        source.notes[name] = str(
            MissingInput(
                f"{name}'s predictions (row {row!r})",
                made_by,
                f"{Path(run_dir) / 'predictions'} has: {found}",
            )
        )
        return False
    preds = saved[row].predictions
    wanted = {a["id"] for a in source.coco.annotations}
    keep = np.array([int(a) in wanted for a in preds.annotation_ids], bool)
    source.predictions[name] = Predictions(
        image_ids=preds.image_ids[keep], keypoints=preds.keypoints[keep],
        scores=preds.scores[keep], domains=preds.domains[keep],
        annotation_ids=preds.annotation_ids[keep],
    )  # fmt: skip
    source.notes[name] = f"{name}: {saved[row].describe()}"
    return True


def _domain(source: BrowserSource, image: dict[str, Any]) -> str:
    synthetic = bool(image.get("is_synthetic"))
    if synthetic:
        return f"{source.population}, synthetic"
    return f"{source.population}, real" + (
        " (rendered stand-in)" if source.data == "embedded" else ""
    )


def browse_table(sources: Sequence[BrowserSource]) -> pd.DataFrame:
    """One row per annotation: source, image and annotation ids, file, posture, domain, and
    ``oks/<model>`` for every model that predicted it (NaN where none did)."""
    rows = []
    for s, source in enumerate(sources):
        images = {im["id"]: im for im in source.coco.images}
        scores: dict[str, dict[int, float]] = {}
        for model, preds in source.predictions.items():
            values = instance_oks(source.coco, preds)
            scores[model] = {
                int(a): float(v) for a, v in zip(preds.annotation_ids, values, strict=True)
            }
        for a in source.coco.annotations:
            image = images[a["image_id"]]
            row = {"source": source.name, "source_index": s, "image_id": int(a["image_id"]),
                   "annotation_id": int(a["id"]), "file": Path(image["file_name"]).name,
                   "posture": image.get("posture") or "unknown", "domain": _domain(source, image)}  # fmt: skip
            for model, by_id in scores.items():
                row[f"oks/{model}"] = by_id.get(int(a["id"]), float("nan"))
            rows.append(row)
    return pd.DataFrame(rows)


def select_rows(table: pd.DataFrame, *, source: str | None = None, domain: str | None = None,
                posture: str | None = None, worst_by: str | None = None) -> pd.DataFrame:  # fmt: skip
    """The rows of ``table`` that pass the filters (None: any), worst ``oks/<worst_by>`` first
    (images the model did not predict last)."""
    keep = np.ones(len(table), bool)
    for column, value in (("source", source), ("domain", domain), ("posture", posture)):
        if value is not None:
            keep &= (table[column] == value).to_numpy()
    out = table[keep]
    if worst_by is not None:
        column = f"oks/{worst_by}"
        if column not in out:
            raise KeyError(f"no model {worst_by!r} in the table; models: "
                           + ", ".join(c[4:] for c in table.columns if c.startswith("oks/")))  # fmt: skip
        out = out.sort_values(column, na_position="last", kind="stable")
    return out


def _crop(image: np.ndarray, bbox: Sequence[float]) -> tuple[np.ndarray, np.ndarray, float]:
    """A square crop around the box (padded by a quarter, grey outside the image):
    ``(crop, top-left corner in the image, side)``."""
    x, y, w, h = (float(v) for v in bbox)
    side = max(w, h, 8.0) * 1.25
    x0, y0 = x + w / 2 - side / 2, y + h / 2 - side / 2
    n = int(np.ceil(side))
    out = np.full((n, n, 3), 128, np.uint8)
    ix0, iy0 = int(np.floor(x0)), int(np.floor(y0))
    sx0, sy0 = max(ix0, 0), max(iy0, 0)
    sx1, sy1 = min(ix0 + n, image.shape[1]), min(iy0 + n, image.shape[0])
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - iy0 : sy1 - iy0, sx0 - ix0 : sx1 - ix0] = image[sy0:sy1, sx0:sx1, :3]
    return out, np.array([ix0, iy0], float), float(n)


def _models(sources: Sequence[BrowserSource]) -> list[str]:
    return list(dict.fromkeys(m for s in sources for m in s.predictions))


def _color(model: str, models: Sequence[str]) -> str:
    return MODEL_COLORS.get(model) or _EXTRA_COLORS[models.index(model) % len(_EXTRA_COLORS)]


def _panel(
    sources: Sequence[BrowserSource], row: pd.Series, models: Sequence[str]
) -> tuple[list[Any], str]:
    source = sources[int(row["source_index"])]
    annotation = next(
        a for a in source.coco.annotations if int(a["id"]) == int(row["annotation_id"])
    )
    image_record = next(im for im in source.coco.images if im["id"] == annotation["image_id"])
    try:
        image = source.coco.load_image(image_record)
        note = ""
    except OSError as error:
        image = np.full((image_record["height"], image_record["width"], 3), 200, np.uint8)
        note = f" (image unreadable: {error})"
    crop, corner, side = _crop(image, annotation["bbox"])
    uri, shrink = image_uri(crop, max_side=_PANEL)
    scale = _PANEL / side
    pixel = _PANEL / max(1, round(crop.shape[1] * shrink))  # a thumbnail pixel in panel units

    def to_panel(kp: np.ndarray) -> np.ndarray:
        return (np.asarray(kp, float)[:, :2] - corner) * scale

    gt = np.asarray(annotation["keypoints"], float).reshape(-1, 3)
    traces: list[Any] = [go.Image(source=uri, x0=pixel / 2, y0=pixel / 2, dx=pixel, dy=pixel,
                                  hoverinfo="skip", name="image")]  # fmt: skip
    traces += skeleton_traces_2d(to_panel(gt), COCO17, "ground truth", visible=gt[:, 2] > 0)
    scores = []
    for model in models:
        preds = source.predictions.get(model)
        rows = (
            []
            if preds is None
            else np.flatnonzero(preds.annotation_ids == int(row["annotation_id"]))
        )
        kp = preds.keypoints[rows[0]] if len(rows) else np.full((17, 3), np.nan)
        traces += skeleton_traces_2d(to_panel(kp), COCO17, model, color=_color(model, models),
                                     dash="dot", width=2.0, marker_size=5)  # fmt: skip
        value = row.get(f"oks/{model}", float("nan"))
        if np.isfinite(value):
            scores.append(f"{model} {value:.2f}")
    title = (f"{row['source']} · {row['file']} · {row['posture']} · {row['domain']}<br>"
             f"OKS: {', '.join(scores) or 'no prediction'}{note}")  # fmt: skip
    return traces, title


def browser_figure(
    sources: Sequence[BrowserSource], row: pd.Series, height: int = 420
) -> go.Figure:
    """One annotation: its image crop, the ground truth (limb colours) and each model's
    prediction (dotted, one colour per model), the OKS in the title."""
    traces, title = _panel(sources, row, _models(sources))
    fig = go.Figure(traces)
    fig.update_xaxes(range=[0, _PANEL], visible=False)
    fig.update_yaxes(range=[_PANEL, 0], visible=False, scaleanchor="x")
    fig.update_layout(height=height, title={"text": title, "font": {"size": 12}, "x": 0.01},
                      margin={"l": 0, "r": 0, "t": 60, "b": 0}, template="none",
                      legend={"x": 1.02, "y": 1.0}, paper_bgcolor="white")  # fmt: skip
    return fig


def browser_static(
    sources: Sequence[BrowserSource], rows: pd.DataFrame, height: int = 470
) -> go.Figure:
    """The book's static browser: one frame per row of ``rows``, a slider over them."""
    if rows.empty:
        raise ValueError("no image to show: the filters left nothing (loosen them)")
    models = _models(sources)
    panels = [_panel(sources, row, models) for _, row in rows.iterrows()]
    fig = browser_figure(sources, rows.iloc[0], height)
    labels = [f"{k + 1}" for k in range(len(panels))]
    return add_slider_frames(fig, [p[0] for p in panels], labels, prefix="image ",
                             titles=[p[1] for p in panels])  # fmt: skip


class DatasetBrowser:
    """The live browser: ``display(DatasetBrowser(sources, missing).box)``.

    Dropdowns filter by dataset, domain and posture and order the images (worst first under a
    model's OKS, or as stored); a slider pages through them. Missing datasets and models are
    listed as messages above the view; with nothing to show, the messages are the view.
    """

    def __init__(
        self, sources: Sequence[BrowserSource], missing: Mapping[str, str] | None = None
    ) -> None:
        import ipywidgets as w

        self.sources = list(sources)
        notes = [m for s in self.sources for m in s.notes.values() if "is missing" in m]
        self.missing = {**(missing or {})}
        self.message = w.HTML(
            "".join(message_html(_as_missing(text)) for text in [*self.missing.values(), *notes])
        )
        self.output = w.Output()
        self.status = w.HTML()
        self.table = browse_table(self.sources) if self.sources else pd.DataFrame()
        if self.table.empty:
            if not self.message.value:
                self.message.value = message_html(MissingInput(
                    "Every dataset", "Give the browser at least one source (collect_sources)."))  # fmt: skip
            self.box = w.VBox([self.message])
            return
        any_ = "(any)"
        self.source = w.Dropdown(
            options=[any_, *self.table["source"].unique()], description="dataset"
        )
        self.domain = w.Dropdown(
            options=[any_, *sorted(self.table["domain"].unique())], description="domain"
        )
        self.posture = w.Dropdown(
            options=[any_, *sorted(self.table["posture"].unique())], description="posture"
        )
        models = [c[4:] for c in self.table.columns if c.startswith("oks/")]
        self.order = w.Dropdown(options=[*(f"worst first: {m}" for m in models), "as stored"],
                                description="order")  # fmt: skip
        self.index = w.IntSlider(
            value=0, min=0, max=0, description="image", continuous_update=False
        )
        for control in (self.source, self.domain, self.posture, self.order):
            control.observe(self._refilter, names="value")
        self.index.observe(lambda _: self.show(), names="value")
        self.rows = self.table
        self.box = w.VBox([
            self.message,
            w.HBox([self.source, self.domain]), w.HBox([self.posture, self.order]),
            w.HBox([self.index, self.status]), self.output,
        ])  # fmt: skip
        self._refilter()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)

    def _refilter(self, _change: Any = None) -> None:
        pick = lambda v: None if v == "(any)" else v  # noqa: E731
        order = self.order.value
        self.rows = select_rows(
            self.table, source=pick(self.source.value), domain=pick(self.domain.value),
            posture=pick(self.posture.value),
            worst_by=order.removeprefix("worst first: ") if order.startswith("worst") else None,
        )  # fmt: skip
        self.index.max = max(len(self.rows) - 1, 0)
        self.index.value = 0
        self.show()

    def show(self) -> None:
        """Draw the image at the slider's position among the filtered rows."""
        from IPython import get_ipython
        from IPython.display import display

        if self.rows.empty:
            self.status.value = "no image passes these filters"
            self.output.clear_output()
            return
        i = min(self.index.value, len(self.rows) - 1)
        row = self.rows.iloc[i]
        scores = ", ".join(f"{c[4:]} {row[c]:.2f}" for c in self.rows.columns
                           if c.startswith("oks/") and np.isfinite(row[c]))  # fmt: skip
        self.status.value = f"{i + 1} / {len(self.rows)}: {row['file']} · OKS {scores or '–'}"
        if get_ipython() is None:
            return
        self.output.clear_output(wait=True)
        with self.output:
            display(browser_figure(self.sources, row))


def missing_html(missing: Mapping[str, str]) -> str:
    """The messages :func:`collect_sources` returned, as the browser shows them above its view."""
    return "".join(message_html(_as_missing(text)) for text in missing.values())


def _as_missing(text: str) -> MissingInput:
    what, _, rest = text.partition(" is missing. ")
    return MissingInput(what, rest) if rest else MissingInput(text, "")
