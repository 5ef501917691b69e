"""lift3d prior: sub-VP SDE against closed forms, score-net shapes, DSM training with an EMA
that inference uses, checkpoints and the control branch."""

from __future__ import annotations

import math
import os
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from infantpose.lift3d import (
    CheckpointError,
    ControlScoreNet,
    PriorTrainConfig,
    ScoreConfig,
    ScoreNet,
    SubVPSDE,
    control_branch,
    finetune,
    load_prior,
    save_prior,
    train_prior,
)

TINY = ScoreConfig(layout="syrip12", width=32, blocks=1, embed_dim=16, dropout=0.0, groups=8)
FAST = PriorTrainConfig(steps=30, batch_size=16, warmup=5, ema_rate=0.9, lr=1e-3)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks run faster on one thread, and much faster on a shared, busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def poses(count=40, joints=12, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(0, 0.1, (1, joints, 3))
    return (base + rng.normal(0, 0.01, (count, joints, 3))).astype(np.float32)


def test_sde_marginals_match_closed_form():
    sde = SubVPSDE()
    t = torch.tensor([0.01, 0.1, 0.5, 1.0], dtype=torch.float64)
    mean, std = sde.marginal(t)
    for ti, m, s in zip(t.tolist(), mean.tolist(), std.tolist(), strict=True):
        c = -0.25 * ti**2 * (20 - 0.1) - 0.5 * ti * 0.1
        assert m == pytest.approx(math.exp(c))
        assert s == pytest.approx(1 - math.exp(2 * c))
        assert sde.std_at(ti) == pytest.approx(s)
    # Reference numbers from ZeDO's released SDE (ipl-uw/ZeDO-Release): s(0.1) ≈ 0.104, s(0.01) ≈ 0.002.
    assert sde.std_at(0.1) == pytest.approx(0.1035, abs=1e-3)
    assert sde.std_at(0.01) == pytest.approx(0.0015, abs=5e-4)
    g2 = sde.diffusion_sq(torch.tensor(0.1, dtype=torch.float64))
    assert float(g2) == pytest.approx(2.09 * (1 - math.exp(-0.02 - 19.9 * 0.01)))


def test_sde_perturbation_statistics():
    sde = SubVPSDE()
    x0 = torch.full((100000, 1, 1), 0.5, dtype=torch.float64)
    t = torch.full((100000,), 0.3, dtype=torch.float64)
    xt, _ = sde.perturb(
        x0,
        t,
        torch.randn(x0.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0)),
    )
    mean, s = sde.marginal(t[:1])
    assert float(xt.mean()) == pytest.approx(0.5 * float(mean), abs=0.01)
    assert float(xt.std()) == pytest.approx(float(s), rel=0.03)


def test_exponential_step_never_overshoots_and_matches_euler_for_small_steps():
    sde = SubVPSDE()
    x = torch.ones(4, 2, 3)
    eps = torch.ones(4, 2, 3)
    t = torch.full((4,), 0.01)
    big = sde.exponential_step(x, t, eps, 0.5, drift=False)
    _, s = sde.marginal(t)
    assert torch.allclose(big, x - s[0] * eps, atol=1e-5)  # at most the denoised point
    small_exp = sde.exponential_step(x, t, eps, 1e-6)
    small_euler = sde.euler_step(x, t, eps, 1e-6)
    assert torch.allclose(small_exp, small_euler, atol=1e-6)


def test_score_net_shapes_and_layout_check():
    net = ScoreNet(ScoreConfig(width=64, blocks=2, embed_dim=32, groups=8))
    eps = net(torch.zeros(5, 17, 3), torch.rand(5))
    assert eps.shape == (5, 17, 3)
    assert net.num_injections == 5
    with pytest.raises(ValueError, match="h36m17"):
        net(torch.zeros(5, 12, 3), torch.rand(5))
    reference = ScoreNet(ScoreConfig())  # ZeDO: 1024 × 2, about 7.2 M parameters for J = 17
    assert sum(p.numel() for p in reference.parameters()) == pytest.approx(7.2e6, rel=0.05)
    cond = ScoreNet(replace(TINY, num_classes=2))
    out = cond(torch.zeros(3, 12, 3), torch.rand(3), torch.tensor([0, 1, 2]))
    assert out.shape == (3, 12, 3)


def test_training_reduces_loss_and_ema_is_used_at_inference():
    prior = train_prior(poses(), TINY, replace(FAST, steps=60), seed=0)
    assert np.mean(prior.history[-10:]) < np.mean(prior.history[:10])
    ema = dict(prior.network.named_parameters())
    raw = dict(prior.raw.named_parameters())
    assert any(not torch.equal(ema[k], raw[k]) for k in ema)
    x, t = torch.randn(4, 12, 3), torch.full((4,), 0.05)
    with torch.no_grad():
        assert torch.equal(prior.eps(x, t), prior.network(x, t))
        assert not torch.allclose(prior.eps(x, t), prior.raw(x, t))


def test_checkpoint_round_trip_and_layout_mismatch(tmp_path):
    prior = train_prior(poses(), TINY, FAST, seed=0)
    path = save_prior(prior, tmp_path / "prior.pt")
    loaded = load_prior(path, layout="syrip12")
    x, t = torch.randn(4, 12, 3), torch.full((4,), 0.05)
    with torch.no_grad():
        assert torch.equal(loaded.eps(x, t), prior.eps(x, t))
    assert loaded.config == prior.config and loaded.step == prior.step
    np.testing.assert_array_equal(loaded.pose_sample, prior.pose_sample)
    with pytest.raises(CheckpointError, match=r"syrip12.*h36m17"):
        load_prior(path, layout="h36m17")
    torch.save({"model": 1}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"not an infantpose.lift3d/2 checkpoint"):
        load_prior(tmp_path / "other.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match="not a torch checkpoint"):
        load_prior(tmp_path / "garbage.pt")


class _Payload:
    """Unpickling this runs ``touch <marker>``: what a crafted checkpoint would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_checkpoint_cannot_run_code(tmp_path):
    marker = tmp_path / "pwned"
    prior = train_prior(poses(), TINY, replace(FAST, steps=2), seed=0)
    save_prior(prior, tmp_path / "prior.pt")
    state = torch.load(tmp_path / "prior.pt", weights_only=True)
    # The payload inside an otherwise valid checkpoint, and as the whole file.
    for name, content in (
        ("inside.pt", {**state, "step": _Payload(marker)}),
        ("whole.pt", _Payload(marker)),
    ):
        torch.save(content, tmp_path / name)
        with pytest.raises(CheckpointError, match="refused"):
            load_prior(tmp_path / name)
        assert not marker.exists(), f"{name}: loading ran the payload"


def test_lift3d_never_unpickles_objects():
    """No loader in lift3d may fall back to full unpickling."""
    import infantpose.lift3d as package

    root = Path(package.__file__).parent
    for source in sorted(root.rglob("*.py")):
        text = source.read_text()
        assert "weights_only=False" not in text, source
        assert "allow_pickle=True" not in text, source
        assert "pickle.load" not in text, source


def test_configs_reject_unknown_keys_with_a_hint():
    from infantpose.config import ConfigError
    from infantpose.lift3d import (
        ExperimentProfile,
        GuidedAugmentConfig,
        LiftConfig,
        LifterConfig,
    )

    cases = [
        (lambda: PriorTrainConfig.from_dict({"step": 3}), "`step` (did you mean `steps`?)"),
        (lambda: PriorTrainConfig.paper(warm_up=3), "did you mean `warmup`"),
        (lambda: FAST.replace(ema_rat=0.5), "did you mean `ema_rate`"),
        (lambda: ScoreConfig.from_dict({"widht": 8}), "did you mean `width`"),
        (lambda: LiftConfig.fast(oil_step=3), "did you mean `oil_steps`"),
        (lambda: LiftConfig.reference(drfit=False), "did you mean `drift`"),
        (lambda: LifterConfig.from_dict({"with": 8}), "did you mean `width`"),
        (lambda: GuidedAugmentConfig.from_dict({"strenght": 0.1}), "did you mean `strength`"),
        (lambda: ExperimentProfile.smoke(size=(3,)), "did you mean `sizes`"),
        (
            lambda: ExperimentProfile.from_dict({"lift": {"int": "flat"}}),
            "ExperimentProfile.lift: unknown field(s) `int` (did you mean `init`?)",
        ),
    ]
    for make, message in cases:
        with pytest.raises(ConfigError, match=re.escape(message)):
            make()
    for bad in (dict(step_rule="rk4"), dict(init="tpose")):
        with pytest.raises(ConfigError, match="must be one of"):
            LiftConfig.fast(**bad)
    # Known keys still work, and a nested mapping changes only what it names.
    profile = ExperimentProfile.default(lift={"init": "flat"}, sizes=(5,))
    assert profile.lift == LiftConfig.fast(init="flat", size_to_prior=True)
    assert profile.sizes == (5,)
    assert PriorTrainConfig.from_dict(FAST.to_dict()) == FAST


def test_checkpoint_with_an_unknown_config_key_names_it(tmp_path):
    from infantpose.config import ConfigError

    prior = train_prior(poses(), TINY, replace(FAST, steps=2), seed=0)
    save_prior(prior, tmp_path / "prior.pt")
    state = torch.load(tmp_path / "prior.pt", weights_only=True)
    state["train_config"]["lr_typo"] = 1.0
    torch.save(state, tmp_path / "typo.pt")
    with pytest.raises(ConfigError, match=r"typo.pt: train_config: unknown field\(s\) `lr_typo`"):
        load_prior(tmp_path / "typo.pt")


def test_training_rejects_bad_poses():
    with pytest.raises(ValueError, match=r"\(N, 12, 3\)"):
        train_prior(poses(joints=17), TINY, FAST)
    bad = poses()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train_prior(bad, TINY, FAST)


def test_control_branch_equals_frozen_prior_at_init_and_trains_only_its_branch(tmp_path):
    prior = train_prior(poses(), TINY, FAST, seed=0)
    control = ControlScoreNet(prior.network)
    x, t = torch.randn(6, 12, 3), torch.rand(6)
    with torch.no_grad():
        assert torch.equal(control(x, t), prior.network(x, t))
    # The copy is taken after loading: it starts from the prior's trained weights.
    for (name, a), b in zip(
        control.copy.named_parameters(), prior.network.parameters(), strict=True
    ):
        assert torch.equal(a, b), name
    assert all(not p.requires_grad for p in control.prior.parameters())
    before = {k: v.clone() for k, v in control.prior.state_dict().items()}
    adapted = control_branch(prior, poses(seed=1) * 0.5, FAST, seed=0)
    after = adapted.raw.prior.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert any(layer.weight.abs().sum() > 0 for layer in adapted.raw.zero_layers)
    # No gradient-reversal layer anywhere: the branch is trained on the plain DSM loss.
    assert not any("grl" in name.lower() for name, _ in adapted.raw.named_modules())
    path = save_prior(adapted, tmp_path / "control.pt")
    loaded = load_prior(path)
    assert loaded.kind == "control"
    with torch.no_grad():
        assert torch.equal(loaded.eps(x, t), adapted.eps(x, t))


def test_finetune_starts_from_the_ema_and_leaves_the_prior_unchanged():
    prior = train_prior(poses(), TINY, FAST, seed=0)
    before = {k: v.clone() for k, v in prior.network.state_dict().items()}
    tuned = finetune(prior, poses(seed=3), replace(FAST, steps=5), seed=0)
    assert all(torch.equal(before[k], v) for k, v in prior.network.state_dict().items())
    assert tuned.step == prior.step + 5
    assert any(not torch.equal(before[k], v) for k, v in tuned.raw.state_dict().items())
