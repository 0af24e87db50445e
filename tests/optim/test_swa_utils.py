"""optim.swa_utils against PyTorch 2.13's values (recorded by running the same script on it)."""

import warnings

import pytest
from chainrule.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn

import chainrule as torch


@pytest.mark.parametrize("strategy, epochs, expected", [
    ("cos", 3, [0.775, 0.325, 0.1, 0.1, 0.1]),
    ("linear", 2, [0.55, 0.1, 0.1, 0.1, 0.1]),
    ("cos", 0, [0.1, 0.1, 0.1, 0.1, 0.1]),
])
def test_swalr_anneals_to_the_swa_rate(strategy, epochs, expected):
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
    optimizer = torch.optim.SGD([w], lr=1.0)
    scheduler = SWALR(optimizer, swa_lr=0.1, anneal_epochs=epochs, anneal_strategy=strategy)
    rates = []
    for _ in range(5):
        optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    assert rates == pytest.approx(expected)
    with pytest.raises(ValueError, match="anneal_strategy"):
        SWALR(optimizer, 0.1, anneal_strategy="step")


def test_averaged_models_and_batch_norm_update():
    net = torch.nn.Sequential(torch.nn.Linear(2, 2).double(), torch.nn.BatchNorm1d(2).double())
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(0.5)
    average = AveragedModel(net)
    ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    for _ in range(3):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(1.0)
        average.update_parameters(net)
        ema.update_parameters(net)
    # weights went 1.5, 2.5, 3.5: the mean is 2.5; the EMA is 0.9 * (0.9 * 1.5 + 0.25) + 0.35
    assert next(average.parameters()).tolist() == [[2.5, 2.5], [2.5, 2.5]]
    assert next(ema.parameters()).reshape(-1).tolist() == pytest.approx([1.79] * 4)
    assert average.n_averaged.item() == 3
    x = torch.tensor([[1.0, 2.0], [3.0, 5.0], [0.0, 1.0]], dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        update_bn([(x, 0), (x * 2, 1)], average)
    assert average.module[1].running_mean.tolist() == [17.5, 17.5]
    assert average.module[1].running_var.tolist() == [203.125, 203.125]
    assert list(average.state_dict())[:2] == ["n_averaged", "module.0.weight"]
