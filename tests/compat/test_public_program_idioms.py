"""Calls that stopped well-known public PyTorch programs (tutorial repositories, GAN and NLP
collections) under chainrule: the legacy tensor-type names (``x.type(torch.FloatTensor)``),
``torch.normal``'s overloads, ``autograd.grad(only_inputs=...)``, 0-d parameters in every
optimizer, ``torch.tensor`` of sequences, ``nn.utils.weight_norm``. Expected answers are
PyTorch 2.13's: read off a CPU build, or recorded into torch_program_idioms.json by
bench/record_program_idioms.py."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import chainrule as torch
from chainrule._device import DeviceUnavailableError

from .program_idiom_cases import (
    DIRAC_CASES,
    SPECTRAL_NORM_CASES,
    TENSOR_FROM_SEQUENCES,
    WEIGHT_NORM_CASES,
    dirac_case,
    parametrized_weight_norm_case,
    spectral_norm_case,
    weight_norm_case,
)

RECORDED = json.loads((Path(__file__).parent / "torch_program_idioms.json").read_text())


@pytest.mark.parametrize("dtype, name", [
    (torch.float32, "torch.FloatTensor"), (torch.float64, "torch.DoubleTensor"),
    (torch.float16, "torch.HalfTensor"), (torch.bfloat16, "torch.BFloat16Tensor"),
    (torch.int64, "torch.LongTensor"), (torch.int32, "torch.IntTensor"),
    (torch.int16, "torch.ShortTensor"), (torch.int8, "torch.CharTensor"),
    (torch.uint8, "torch.ByteTensor"), (torch.bool, "torch.BoolTensor")])
def test_type_names_the_legacy_tensor_type_and_casts_by_it(dtype, name):
    x = torch.ones(2, dtype=dtype)
    assert x.type() == name
    assert torch.zeros(3, dtype=torch.float64).type(name).dtype == dtype
    legacy_class = getattr(torch, name.split(".")[1])
    assert torch.zeros(3, dtype=torch.float64).type(legacy_class).dtype == dtype


def test_type_casts_values_like_to():
    x = torch.tensor([1.7, -2.2], dtype=torch.float64)
    assert x.type(torch.LongTensor).tolist() == [1, -2]       # truncation, as .long()
    assert x.type(torch.int16).dtype == torch.int16
    assert torch.tensor([1, 2]).type(torch.FloatTensor).dtype == torch.float32


def test_type_refuses_cuda_and_unknown_names():
    x = torch.zeros(2)
    for cuda_type in (torch.cuda.FloatTensor, "torch.cuda.FloatTensor"):
        with pytest.raises(DeviceUnavailableError, match="CPU"):
            x.type(cuda_type)
    with pytest.raises(ValueError, match="invalid type: 'torch.Foo'"):
        x.type("torch.Foo")


def test_module_type_takes_the_legacy_class_and_its_name():
    assert torch.nn.Linear(2, 2).type(torch.DoubleTensor).weight.dtype == torch.float64
    assert torch.nn.Linear(2, 2).type("torch.DoubleTensor").bias.dtype == torch.float64


def test_normal_with_a_tensor_mean_defaults_std_to_one():
    torch.manual_seed(0)
    samples = torch.normal(torch.full((20000,), 3.0, dtype=torch.float64))
    assert samples.dtype == torch.float64 and samples.shape == (20000,)
    assert abs(samples.mean().item() - 3.0) < 0.05 and abs(samples.std().item() - 1.0) < 0.05


def test_normal_forms_shapes_and_dtypes():
    assert torch.normal(torch.zeros(2, 3), torch.ones(3)).shape == (2, 3)   # broadcast
    assert torch.normal(0.0, torch.ones(4)).dtype == torch.float32
    assert torch.normal(std=torch.ones(4, dtype=torch.float64)).dtype == torch.float64
    assert torch.normal(2.0, 3.0, (2, 5), dtype=torch.float64).dtype == torch.float64
    assert torch.normal(2, 3, size=(1, 4)).shape == (1, 4)
    spread = torch.normal(torch.zeros(10000), torch.full((10000,), 1e-3))
    assert spread.abs().max().item() < 1e-2                  # std is a scale, not a variance


def test_normal_of_two_numbers_needs_a_size():
    with pytest.raises(TypeError, match="size"):
        torch.normal(0.0, 1.0)


def test_normal_is_reproducible_from_the_seed():
    torch.manual_seed(5)
    a = torch.normal(torch.zeros(3))
    torch.manual_seed(5)
    np.testing.assert_array_equal(a.numpy(), torch.normal(torch.zeros(3)).numpy())


def test_grad_takes_pytorchs_deprecated_only_inputs_flag():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (dx,) = torch.autograd.grad((x * x).sum(), x, only_inputs=True)
    assert dx.tolist() == [2.0, 4.0]
    with pytest.warns(FutureWarning, match="only_inputs"):
        (dx,) = torch.autograd.grad((x ** 3).sum(), x, only_inputs=False)
    assert dx.tolist() == [3.0, 12.0]


def test_grad_positional_arguments_follow_pytorchs_order():
    # grad(outputs, inputs, grad_outputs, retain_graph, create_graph, only_inputs, allow_unused)
    x = torch.tensor([1.0], requires_grad=True)
    unused = torch.tensor([1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = torch.autograd.grad((x * 2).sum(), [x, unused], None, None, False, True, True)
    assert grads[0].tolist() == [2.0] and grads[1] is None


@pytest.mark.parametrize("name", sorted(RECORDED["zero_dim_parameter"]))
def test_every_optimizer_updates_a_zero_dim_parameter(name):
    # SAC's learnable temperature: log_alpha = torch.tensor(np.log(0.01)); requires_grad = True
    p = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    optimizer = getattr(torch.optim, name)([p], lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        ((p - 2) ** 2).backward()
        optimizer.step()
    assert p.shape == () and isinstance(p.numpy(force=True), np.ndarray)
    np.testing.assert_allclose(p.item(), RECORDED["zero_dim_parameter"][name], rtol=1e-12)


@pytest.mark.parametrize("case", sorted(RECORDED["tensor_from_sequences"]))
def test_tensor_reads_sequences_as_pytorch_does(case):
    # PPO (minimalRL) builds batches with torch.tensor(list of lists of one-element tensors)
    name, default = case.rsplit(", default ", 1)
    expected = RECORDED["tensor_from_sequences"][case]
    previous = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, default))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = torch.tensor(TENSOR_FROM_SEQUENCES[name](torch))
    finally:
        torch.set_default_dtype(previous)
    assert (str(t.dtype).split(".")[1], list(t.shape)) == (expected["dtype"], expected["shape"])
    assert t.double().flatten().tolist() == expected["values"]


def test_a_tensor_of_many_values_inside_a_list_is_refused_as_in_pytorch():
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        torch.tensor([torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])])


@pytest.mark.parametrize("name", sorted(WEIGHT_NORM_CASES))
def test_weight_norm_matches_pytorch(name):
    expected = RECORDED["weight_norm"][name]
    got = weight_norm_case(torch, *WEIGHT_NORM_CASES[name])
    for key in ("names", "removed", "g_shape"):
        assert got[key] == expected[key], key
    for key in ("out", "grad_g", "grad_v", "weight"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-12, err_msg=key)


def test_weight_norm_warns_recomputes_before_forward_and_refuses_twice():
    layer = torch.nn.Linear(3, 2)
    with pytest.warns(FutureWarning, match="parametrizations.weight_norm"):
        torch.nn.utils.weight_norm(layer)
    with torch.no_grad():
        layer.weight_g.mul_(2.0)                    # a step on g scales the weight ...
    before = layer.weight.detach().clone()
    layer(torch.ones(1, 3))                         # ... once the pre-hook runs
    np.testing.assert_allclose(layer.weight.detach().numpy(), 2 * before.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(layer)
    torch.nn.utils.remove_weight_norm(layer)
    assert isinstance(layer.weight, torch.nn.Parameter) and not layer._forward_pre_hooks
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        torch.nn.utils.remove_weight_norm(layer)


@pytest.mark.parametrize("dim", sorted(RECORDED["parametrized_weight_norm"]))
def test_parametrized_weight_norm_matches_pytorch(dim):
    expected = RECORDED["parametrized_weight_norm"][dim]
    got = parametrized_weight_norm_case(torch, None if dim == "None" else int(dim))
    for key in ("names", "class", "removed", "class_after_remove"):
        assert got[key] == expected[key], key
    for key in ("out", "grad_g", "grad_v", "out_after_assign", "weight"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", sorted(SPECTRAL_NORM_CASES))
def test_spectral_norm_matches_pytorch(name):
    expected = RECORDED["spectral_norm"][name]
    got = spectral_norm_case(torch, *SPECTRAL_NORM_CASES[name])
    for key in ("keys", "removed"):
        assert got[key] == expected[key], key
    for key in ("first", "second", "eval", "u", "v", "grad", "weight"):
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-12, err_msg=key)


def test_spectral_norm_weight_has_unit_spectral_norm_and_refuses_twice():
    layer = torch.nn.utils.spectral_norm(torch.nn.Linear(5, 4).double(), n_power_iterations=500)
    layer(torch.ones(1, 5, dtype=torch.float64))  # training mode: the pre-hook iterates
    singular = np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)
    np.testing.assert_allclose(singular[0], 1.0, rtol=1e-6)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        torch.nn.utils.spectral_norm(layer)
    torch.nn.utils.remove_spectral_norm(layer)
    assert isinstance(layer.weight, torch.nn.Parameter) and not layer._forward_pre_hooks
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        torch.nn.utils.remove_spectral_norm(layer)
    with pytest.raises(ValueError, match="no parameter or buffer with name 'kernel'"):
        torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(2, 2), name="kernel")


def test_spectral_norm_state_dict_round_trips_into_a_fresh_layer():
    source = torch.nn.utils.spectral_norm(torch.nn.Conv2d(2, 3, 2))
    source(torch.ones(1, 2, 3, 3))
    target = torch.nn.utils.spectral_norm(torch.nn.Conv2d(2, 3, 2))
    target.load_state_dict(source.state_dict())
    source.eval()
    target.eval()
    x = torch.ones(1, 2, 3, 3)
    assert torch.equal(source(x), target(x))


@pytest.mark.parametrize("name", sorted(DIRAC_CASES))
def test_dirac_matches_pytorch(name):
    assert dirac_case(torch, *DIRAC_CASES[name]) == RECORDED["dirac"][name]


@pytest.mark.parametrize("old, new", [
    ("uniform", "uniform_"), ("normal", "normal_"), ("constant", "constant_"),
    ("xavier_uniform", "xavier_uniform_"), ("xavier_normal", "xavier_normal_"),
    ("kaiming_uniform", "kaiming_uniform_"), ("kaiming_normal", "kaiming_normal_"),
    ("orthogonal", "orthogonal_"), ("eye", "eye_"), ("dirac", "dirac_"), ("sparse", "sparse_")])
def test_deprecated_init_names_warn_and_fill_as_the_new_ones(old, new):
    args = {"constant": (0.5,), "sparse": (0.5,)}.get(old, ())
    shape = (4, 2, 3) if old == "dirac" else (4, 6)
    torch.manual_seed(0)
    expected = getattr(torch.nn.init, new)(torch.empty(*shape), *args)
    torch.manual_seed(0)
    with pytest.warns(FutureWarning, match=f"`nn.init.{old}` is now deprecated in favor of "
                                           f"`nn.init.{new}`"):
        got = getattr(torch.nn.init, old)(torch.empty(*shape), *args)
    assert torch.equal(got, expected)


def test_sparse_init_zeroes_the_fraction_of_each_column():
    weight = torch.nn.init.sparse_(torch.empty(10, 6), sparsity=0.3, std=0.5)
    assert ((weight == 0).sum(dim=0) == 3).all()   # ceil(0.3 * 10) per column
    with pytest.raises(ValueError, match="2 dimensions"):
        torch.nn.init.sparse_(torch.empty(2, 2, 2), 0.5)


def test_fork_rng_restores_the_default_generator():
    torch.manual_seed(7)
    with torch.random.fork_rng():
        torch.rand(3)
    after_fork = torch.rand(2)
    torch.manual_seed(7)
    assert torch.equal(after_fork, torch.rand(2))


def test_fork_rng_disabled_leaves_the_draws_counted():
    torch.manual_seed(7)
    with torch.random.fork_rng(enabled=False):
        torch.rand(3)
    got = torch.rand(2)
    torch.manual_seed(7)
    torch.rand(3)
    assert torch.equal(got, torch.rand(2))


def test_is_inference_mode_enabled_inside_blocks_and_decorated_functions():
    assert not torch.is_inference_mode_enabled()
    with torch.inference_mode():
        assert torch.is_inference_mode_enabled() and not torch.is_grad_enabled()
        with torch.inference_mode(False):
            assert not torch.is_inference_mode_enabled() and torch.is_grad_enabled()
        assert torch.is_inference_mode_enabled()
    assert not torch.is_inference_mode_enabled() and torch.is_grad_enabled()

    @torch.inference_mode()
    def predict():
        return torch.is_inference_mode_enabled(), torch.is_grad_enabled()

    assert predict() == (True, False)
    assert not torch.is_inference_mode_enabled()
    assert torch.autograd.grad_mode.is_inference_mode_enabled is torch.is_inference_mode_enabled


def test_parametrize_refuses_what_pytorch_refuses():
    layer = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        torch.nn.utils.parametrize.remove_parametrizations(layer, "weight")
    torch.nn.utils.parametrizations.weight_norm(layer)
    assert torch.nn.utils.parametrize.type_before_parametrizations(layer) is torch.nn.Linear
    with pytest.raises(ValueError, match="sequence of tensors"):
        torch.nn.utils.parametrize.remove_parametrizations(layer, "weight",
                                                           leave_parametrized=False)


def test_jit_runs_scriptable_code_eagerly():
    @torch.jit.script
    def double(x):
        return x * 2

    model = torch.nn.Linear(2, 2)
    assert double(torch.ones(2)).tolist() == [2.0, 2.0]
    assert torch.jit.trace(model, torch.ones(1, 2)) is model
    assert torch.jit.script(model) is model and not isinstance(model, torch.jit.ScriptModule)
    assert not torch.jit.is_scripting() and not torch.jit.is_tracing()
    assert torch.jit.ignore(double) is double and torch.jit.ignore(drop=True)(double) is double
    assert torch.jit.unused(double) is double and torch.jit.export(double) is double
    from chainrule.jit.annotations import BroadcastingList2, Optional  # noqa: F401
    for call in (lambda: torch.jit.save(model, "m.pt"), lambda: torch.jit.load("m.pt")):
        with pytest.raises(RuntimeError, match="state_dict"):
            call()


def test_default_collate_keeps_a_field_of_strings_as_pytorch_does():
    # PyTorch transposes the batch with zip: a field of strings comes back as that tuple
    from chainrule.utils.data import DataLoader, default_collate
    names, labels = default_collate([("ann", 1), ("bob", 2)])
    assert names == ("ann", "bob") and labels.tolist() == [1, 2]
    assert default_collate(["x", "y"]) == ["x", "y"]
    assert default_collate([{"s": "a"}, {"s": "b"}]) == {"s": ["a", "b"]}
    assert next(iter(DataLoader([("a", 1.0), ("b", 2.0)], batch_size=2)))[0] == ("a", "b")


def test_lr_scheduler_old_base_class_is_subclassed_by_warmup_schedulers():
    from chainrule.optim.lr_scheduler import LRScheduler, _LRScheduler

    class Warmup(_LRScheduler):  # a repository's linear warm-up, written against the old name
        def __init__(self, optimizer, total):
            self.total = total
            super().__init__(optimizer)

        def get_lr(self):
            return [base * min(1.0, (self.last_epoch + 1) / self.total) for base in self.base_lrs]

    layer = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.4)
    scheduler = Warmup(optimizer, total=4)
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(4):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    np.testing.assert_allclose(rates, [0.1, 0.2, 0.3, 0.4, 0.4])  # 0.4 * min(1, (e + 1) / 4)
    assert isinstance(scheduler, LRScheduler) and _LRScheduler.__name__ == "_LRScheduler"


def test_clip_grad_norm_old_name_warns_and_clips():
    layer = torch.nn.Linear(3, 1, bias=False)
    layer.weight.grad = torch.full((1, 3), 2.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = torch.nn.utils.clip_grad_norm(layer.parameters(), max_norm=1.0)
    np.testing.assert_allclose(total.item(), 12 ** 0.5)       # |(2, 2, 2)|
    np.testing.assert_allclose(layer.weight.grad.norm().item(), 1.0, rtol=1e-5)


def _eval_batch_norm(bn, rng):
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, bn.num_features)))
        bn.bias.copy_(torch.from_numpy(rng.standard_normal(bn.num_features)))
        bn.running_mean.copy_(torch.from_numpy(rng.standard_normal(bn.num_features)))
        bn.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, bn.num_features)))
    return bn.eval()


@pytest.mark.parametrize("layer, bn, transpose, shape", [
    (lambda: torch.nn.Conv2d(3, 4, 3, bias=False), lambda: torch.nn.BatchNorm2d(4), False,
     (2, 3, 5, 5)),
    (lambda: torch.nn.Conv1d(3, 4, 2), lambda: torch.nn.BatchNorm1d(4), False, (2, 3, 6)),
    (lambda: torch.nn.ConvTranspose2d(3, 4, 2), lambda: torch.nn.BatchNorm2d(4), True,
     (2, 3, 3, 3)),
    (lambda: torch.nn.Linear(5, 4), lambda: torch.nn.BatchNorm1d(4), None, (3, 5))])
def test_fused_layer_computes_what_the_layer_and_its_batch_norm_did(layer, bn, transpose, shape):
    rng = np.random.default_rng(2)
    layer, bn = layer().double().eval(), _eval_batch_norm(bn().double(), rng)
    x = torch.from_numpy(rng.standard_normal(shape))
    if transpose is None:
        fused = torch.nn.utils.fuse_linear_bn_eval(layer, bn)
    else:
        fused = torch.nn.utils.fuse_conv_bn_eval(layer, bn, transpose=transpose)
    with torch.no_grad():
        np.testing.assert_allclose(fused(x).numpy(), bn(layer(x)).numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert isinstance(fused.bias, torch.nn.Parameter) and fused is not layer
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        torch.nn.utils.fuse_conv_bn_eval(torch.nn.Conv2d(1, 1, 1), torch.nn.BatchNorm2d(1))
