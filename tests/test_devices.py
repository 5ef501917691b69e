"""One device per step: a FiDIP training step (stages I and II), a SHIFT adaptation step, the
steps of SHIFT's prior, F_seg and Kp2Seg, a ZeDO-i prior step and a lifting step, each run on
``cpu``, on PyTorch's ``meta`` device and on ``cuda`` when there is one.

The ``meta`` device holds shapes and no data, so it stands in for a GPU on a CPU-only machine:
a tensor a step leaves on the CPU (a grid built without ``device=``, a module never moved)
meets the step's ``meta`` tensors and fails. Meta kernels do not check every operator
(a convolution with CPU weights passes), so every step also runs under :class:`OneDevice`,
which fails any operator whose tensors lie on two devices, as CUDA would, allowing only what
CUDA allows: CPU scalars, CPU index tensors and explicit copies. A host sync (``float(loss)``,
``.cpu()``) cannot run on ``meta`` either, so the steps are also free of them, as a GPU loop
should be. Sizes are tiny: these run in CI on 2 cores."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from infantpose.keypoints import COCO17
from infantpose.pose2d import PoseResNet, PoseResNetConfig
from infantpose.pose2d.config import cpu_config
from infantpose.pose2d.train import build_classifier, train_step
from infantpose.shift import (
    Components,
    EmaTeacher,
    Kp2Seg,
    PriorConfig,
    ShiftConfig,
    SourceCrops,
    TargetImages,
    adaptation_step,
    bce_step,
    build_segmenter,
    draw_limbs,
    prior_step,
    segment,
)
from infantpose.shift.prior import PoseNDF

DEVICES = [
    "cpu",
    "meta",
    pytest.param(
        "cuda",
        marks=[
            pytest.mark.gpu,
            pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
        ],
    ),
]

TINY = PoseResNetConfig(depth=18, input_size=(32, 64), deconv_channels=(16, 16, 16))

#: Operators that move data between devices on purpose (``.to``, ``copy_``).
_TRANSFERS = {"aten::_to_copy", "aten::copy_", "aten::lift_fresh", "aten::_local_scalar_dense"}


class OneDevice(TorchDispatchMode):
    """Fail any operator whose tensor arguments lie on more than one device, except what CUDA
    accepts too: 0-d CPU tensors (scalars), CPU integer or boolean tensors used as indices,
    and explicit transfers."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._schema.name
        if name not in _TRANSFERS:
            indexing = name.startswith(("aten::index", "aten::_index"))
            devices = {
                t.device
                for t in tree_leaves((args, kwargs))
                if isinstance(t, torch.Tensor)
                and not (t.device.type == "cpu" and t.dim() == 0)
                and not (indexing and t.device.type == "cpu" and not t.dtype.is_floating_point)
            }
            if len(devices) > 1:
                raise RuntimeError(f"{name} mixes devices {sorted(map(str, devices))}")
        return func(*args, **kwargs)


def _on(device: str, *tensors: torch.Tensor) -> None:
    for t in tensors:
        assert t.device.type == device, (t.device, device)


def _params_on(device: str, *modules: torch.nn.Module) -> None:
    for module in modules:
        _on(device, *module.parameters(), *module.buffers())


# ----------------------------------------------------------------------------- pose2d


@pytest.mark.parametrize("device", DEVICES)
def test_a_fidip_step_with_the_domain_classifier_stays_on_one_device(device):
    """Stage I (the classifier on detached features) and stage II (pose loss + reversed
    domain loss) of one FiDIP batch; the batch comes from the loader on the CPU."""
    config = cpu_config(model=TINY.to_dict(), classifier_hidden=(16, 8), precision=None,
                        channels_last=device != "cpu", log=False)  # fmt: skip
    torch.manual_seed(0)
    model = PoseResNet(config.model).to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    classifier = build_classifier(model, config).to(device)
    w, h = TINY.input_size
    hw, hh = TINY.heatmap_size
    batch = {
        "image": torch.randn(4, 3, h, w),
        "target": torch.rand(4, 17, hh, hw),
        "target_weight": torch.ones(4, 17, 1),
        "domain": torch.tensor([0.0, 1.0, 0.0, 1.0]),
    }
    optimiser = torch.optim.Adam(model.parameters(), 1e-3)
    classifier_optimiser = torch.optim.Adam(classifier.parameters(), 1e-3)
    with OneDevice():
        out = train_step(model, batch, optimiser, config, classifier=classifier,
                         classifier_optimizer=classifier_optimiser)  # fmt: skip
    assert set(out) == {"loss_pose", "loss_domain", "domain_acc"}
    _on(device, *out.values())
    _params_on(device, model, classifier)
    if device != "meta":
        assert all(np.isfinite(float(v)) for v in out.values())


# ----------------------------------------------------------------------------- SHIFT


def _shift_inputs(n: int = 4):
    """The student, its source crops and target images on the CPU (as ``prepare`` crops
    them), and the frozen helpers."""
    torch.manual_seed(0)
    student = PoseResNet(TINY)
    w, h = TINY.input_size
    hw, hh = TINY.heatmap_size
    source = SourceCrops(
        images=torch.randn(n, 3, h, w),
        points=torch.rand(n, 17, 2) * torch.tensor([hw - 1, hh - 1]),
        weights=torch.ones(n, 17),
        masks=torch.rand(n, 1, hh, hw),
    )
    target = TargetImages(images=torch.randn(n, 3, h, w))
    components = Components(
        prior=PoseNDF(PriorConfig(hidden=16, layers=2)),
        kp2seg=Kp2Seg((hw, hh), channels=8),
        target_masks=(torch.rand(n, 1, hh, hw) > 0.5).float(),
    )
    return student, source, target, components


@pytest.mark.parametrize("mode", ["all", "oracle"])
@pytest.mark.parametrize("device", DEVICES)
def test_a_shift_adaptation_step_stays_on_one_device(device, mode):
    """Teacher view, pseudo-labels, student view, the consistency, prior and visibility
    losses, one Adam step and one EMA step. The occlusion picks its joint from the teacher's
    confidences on the host (a data-dependent choice), which ``meta`` has no data for: there
    the step runs without it; on ``cpu`` and ``cuda`` every image is occluded."""
    student, source, target, components = _shift_inputs()
    config = ShiftConfig(mode=mode, batch_size=4, precision=None, channels_last=device != "cpu",
                         occlude_rate=0.0 if device == "meta" else 1.0, occlude_thresh=0.0,
                         occlude_size=3, student={"blur": 1.0})  # fmt: skip
    student.to(device)
    components = components.to(device)
    teacher = EmaTeacher(student, 0.9) if config.losses else None
    optimiser = torch.optim.Adam(student.parameters(), 1e-4)
    generator = torch.Generator().manual_seed(0)
    with OneDevice():
        losses = adaptation_step(student, teacher, optimiser, source, target, components, config,
                                 generator)  # fmt: skip
    expected = {"sup", "total"} | ({"cons", "prior", "seg", "kept"} if config.losses else set())
    assert set(losses) == expected
    _on(device, *losses.values())
    _params_on(device, student, components.prior, components.kp2seg)
    if teacher is not None:
        _params_on(device, teacher.model)
    if device != "meta":
        assert all(np.isfinite(float(v)) for v in losses.values())


@pytest.mark.parametrize("device", DEVICES)
def test_the_prior_fseg_and_kp2seg_steps_stay_on_one_device(device):
    hw, hh = TINY.heatmap_size
    torch.manual_seed(0)
    prior = PoseNDF(PriorConfig(hidden=16, layers=2)).to(device)
    kp2seg = Kp2Seg((hw, hh), channels=8).to(device)
    segmenter = build_segmenter(PoseResNet(TINY)).to(device)
    bones = torch.nn.functional.normalize(torch.randn(8, 13, 2), dim=-1)
    w, h = TINY.input_size
    images, masks = torch.randn(2, 3, h, w), torch.rand(2, 1, hh, hw)
    points = torch.rand(2, 17, 2) * torch.tensor([hw - 1.0, hh - 1.0])
    with OneDevice():
        losses = [
            prior_step(prior, torch.optim.Adam(prior.parameters(), 1e-3), bones.to(device),
                       torch.rand(8).to(device)),
            bce_step(kp2seg, torch.optim.Adam(kp2seg.parameters(), 1e-3), points.to(device),
                     masks.to(device)),
            bce_step(segmenter, torch.optim.Adam(segmenter.parameters(), 1e-3),
                     images.to(device), masks.to(device)),
        ]  # fmt: skip
        limbs = draw_limbs(points.to(device), (hw, hh))
        probabilities = segment(segmenter, images)  # images stay on the CPU: moved per batch
    _on(device, *losses, limbs, probabilities)
    assert limbs.shape == (2, len(COCO17.bone_indices), hh, hw) and probabilities.shape == (
        2,
        1,
        hh,
        hw,
    )


# ----------------------------------------------------------------------------- ZeDO-i


@pytest.mark.parametrize("device", DEVICES)
def test_a_score_prior_step_and_a_lifting_step_stay_on_one_device(device):
    from infantpose.keypoints import get_layout
    from infantpose.lift3d import LiftConfig, PriorTrainConfig, ScoreConfig, ScoreNet
    from infantpose.lift3d.lift import lift_tensors
    from infantpose.lift3d.train import ScorePrior, dsm_step

    score_config = ScoreConfig(width=16)
    joints = len(get_layout(score_config.layout))
    config = PriorTrainConfig(batch_size=8, low_noise_share=0.5)
    torch.manual_seed(0)
    network = ScoreNet(score_config).to(device)
    ema = ScoreNet(score_config).to(device)
    poses = (0.2 * torch.randn(16, joints, 3)).to(device)
    optimiser = torch.optim.Adam(network.parameters(), 1e-3)
    pairs = list(zip(ema.parameters(), network.parameters(), strict=True))
    prior = ScorePrior(ema, network, score_config, config)
    K = torch.tensor([[500.0, 0, 128], [0, 500.0, 128], [0, 0, 1]]).expand(3, 3, 3)
    uv = 50 + 150 * torch.rand(3, joints, 2)
    lift_config = LiftConfig(ipo_steps=2, oil_steps=2, ipo_joints=(0, 1, 2, 3),
                             translation_from=0.5, size_to_prior=True)  # fmt: skip
    with OneDevice():
        loss = dsm_step(network, optimiser, poses, 0, config, score_config,
                        torch.Generator().manual_seed(0), ema=pairs)  # fmt: skip
        X, T, reprojection, _ = lift_tensors(
            prior, uv.to(device), torch.ones(3, joints, device=device), K.to(device),
            poses[:3].clone(), lift_config, score_config.layout, bone_length=0.1,
        )  # fmt: skip
    _on(device, loss, X, T, reprojection)
    _params_on(device, network, ema)
    assert X.shape == (3, joints, 3) and T.shape == (3, 3) and reprojection.shape == (3,)
    if device != "meta":
        assert np.isfinite(float(loss)) and torch.isfinite(X).all()
