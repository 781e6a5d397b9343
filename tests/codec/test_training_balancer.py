"""Loss balancer: gradient shares follow the weights whatever the losses' scales, state round-trips exactly."""

from __future__ import annotations

import pytest
import torch

from codec.training.balancer import LOSS_WEIGHTS_24KHZ, LOSS_WEIGHTS_48KHZ, Balancer, default_loss_weights


def _model_output(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A parameter ``[1, 1, 64]`` and a non-leaf "model output" equal to it, so ``parameter.grad`` is the gradient
    that reached the output (``output.retain_grad()`` would also collect the balancer's ``autograd.grad`` calls)."""
    generator = torch.Generator().manual_seed(seed)
    parameter = torch.randn(1, 1, 64, generator=generator).requires_grad_()
    return parameter, parameter * 1.0


def _losses(output: torch.Tensor) -> dict[str, torch.Tensor]:
    # Disjoint halves of the output, so each loss's share of the output gradient can be read off separately;
    # natural gradient norms differ by about eight orders of magnitude.
    return {"big": 1e4 * output[..., :32].square().sum(), "small": 1e-4 * output[..., 32:].abs().sum()}


@pytest.mark.parametrize("beta", [0.0, 0.999])
def test_first_step_gradient_shares_follow_weights(beta: float) -> None:
    balancer = Balancer({"big": 1.0, "small": 3.0}, beta=beta, total_norm=2.0)
    parameter, output = _model_output()
    norms = balancer.backward(_losses(output), output)
    assert norms["big"] > 1e6 * norms["small"]
    big_share = parameter.grad[..., :32].norm().item()
    small_share = parameter.grad[..., 32:].norm().item()
    # Bias correction makes the first EMA value the current norm, whatever beta.
    assert big_share == pytest.approx(2.0 * 1 / 4, rel=1e-5)
    assert small_share == pytest.approx(2.0 * 3 / 4, rel=1e-5)
    assert big_share + small_share == pytest.approx(balancer.total_norm, rel=1e-5)


def test_per_item_norm_averages_over_the_batch() -> None:
    balancer = Balancer({"loss": 1.0}, beta=0.0, per_item=True)
    output = torch.tensor([[[3.0, 4.0]], [[0.0, 1.0]]], requires_grad=True)
    norms = balancer.backward({"loss": (output * output.detach()).sum()}, output)
    assert norms["loss"] == pytest.approx((5.0 + 1.0) / 2)
    assert float(Balancer({"loss": 1.0}, per_item=False)._norm(output.detach())) == pytest.approx(26**0.5)


def test_ema_smooths_the_norm_over_steps() -> None:
    balancer = Balancer({"loss": 1.0}, beta=0.5)
    for scale, expected_avg in [(1.0, 1.0), (4.0, (0.5 * 1 + 4) / 1.5)]:
        output = torch.ones(1, 1, 1, requires_grad=True)
        balancer.backward({"loss": scale * output.sum()}, output)
        # Gradient reaching the output is R * g / avg.
        assert output.grad.item() == pytest.approx(scale / expected_avg)


def test_gradient_matches_backward_without_touching_parameters() -> None:
    weights = {"big": 1.0, "small": 3.0}
    parameter, output = _model_output()
    gradient, norms = Balancer(weights).gradient(_losses(output), output)
    assert parameter.grad is None
    assert gradient.shape == output.shape
    other_parameter, other_output = _model_output()
    assert Balancer(weights).backward(_losses(other_output), other_output) == norms
    assert torch.equal(other_parameter.grad, gradient)


def test_state_dict_round_trip_gives_identical_gradients() -> None:
    weights = {"big": 1.0, "small": 3.0}
    first = Balancer(weights, beta=0.9)
    for seed in range(3):
        _, output = _model_output(seed)
        first.backward(_losses(output), output)
    second = Balancer(weights, beta=0.9)
    second.load_state_dict(first.state_dict())
    grads = []
    for balancer in (first, second):
        parameter, output = _model_output(seed=7)
        balancer.backward(_losses(output), output)
        grads.append(parameter.grad)
    assert torch.equal(grads[0], grads[1])
    fresh_parameter, fresh_output = _model_output(seed=7)
    Balancer(weights, beta=0.9).backward(_losses(fresh_output), fresh_output)
    assert not torch.equal(fresh_parameter.grad, grads[0])


def test_state_dict_holds_plain_floats() -> None:
    balancer = Balancer({"big": 1.0, "small": 1.0})
    _, output = _model_output()
    balancer.backward(_losses(output), output)
    state = balancer.state_dict()
    assert set(state["totals"]) == {"big", "small"}
    assert all(isinstance(v, float) for v in [*state["totals"].values(), *state["fixes"].values()])
    with pytest.raises(ValueError, match="does not match"):
        Balancer({"big": 1.0}).load_state_dict(state)


def test_unknown_loss_rejected_and_bad_settings_refused() -> None:
    balancer = Balancer({"l1": 1.0})
    output = torch.ones(1, 1, 4, requires_grad=True)
    with pytest.raises(ValueError, match="no balancer weight"):
        balancer.backward({"l1": output.sum(), "commit": output.mean()}, output)
    with pytest.raises(ValueError):
        Balancer({"l1": -1.0})
    with pytest.raises(ValueError):
        Balancer({"l1": 1.0}, beta=1.0)


def test_loss_without_gradient_contributes_nothing() -> None:
    balancer = Balancer({"a": 1.0, "b": 1.0}, beta=0.0)
    output = torch.ones(1, 1, 4, requires_grad=True)
    saturated = torch.relu(-output).sum()  # hinge past its margin: zero gradient
    norms = balancer.backward({"a": output.sum(), "b": saturated}, output)
    assert norms["b"] == 0.0
    assert output.grad.norm().item() == pytest.approx(0.5)


def test_default_weights_are_the_papers() -> None:
    assert dict(LOSS_WEIGHTS_24KHZ) == {"l1": 0.1, "mel": 1.0, "adv": 3.0, "feat": 3.0}
    assert LOSS_WEIGHTS_48KHZ["adv"] == LOSS_WEIGHTS_48KHZ["feat"] == 4.0
    assert default_loss_weights(24_000) == dict(LOSS_WEIGHTS_24KHZ)
    assert default_loss_weights(48_000) == dict(LOSS_WEIGHTS_48KHZ)
