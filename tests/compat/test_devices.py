"""Device code answers as a CPU-only PyTorch 2.13 build answers it (values recorded from one by
hand: torch.cuda.is_available() is False, torch.device("cuda") can be made, moving data there
raises, ...)."""

import pickle

import pytest

import chainrule as torch
from chainrule import nn


def test_cuda_queries_answer_no_device():
    assert torch.cuda.is_available() is False
    assert torch.cuda.device_count() == 0
    assert torch.cuda.is_initialized() is False
    assert torch.cuda.is_bf16_supported() is False
    assert torch.cuda.get_arch_list() == []
    assert torch.cuda.memory_allocated() == 0 and torch.cuda.max_memory_allocated() == 0
    assert torch.cuda.memory_reserved() == 0 and dict(torch.cuda.memory_stats()) == {}
    assert torch.cuda.get_rng_state_all() == []
    for call in (torch.cuda.manual_seed, torch.cuda.manual_seed_all):
        assert call(0) is None
    assert torch.cuda.empty_cache() is None and torch.cuda.seed_all() is None


@pytest.mark.parametrize("call", [
    torch.cuda.synchronize, torch.cuda.current_device, torch.cuda.get_device_name,
    torch.cuda.initial_seed, torch.cuda.Stream, torch.cuda.Event, torch.cuda.current_stream,
    lambda: torch.cuda.set_device(0), lambda: torch.cuda.get_device_properties(0),
    torch.accelerator.current_device_index, torch.accelerator.synchronize,
    torch.mps.synchronize, torch.mps.empty_cache,
])
def test_calls_that_need_a_gpu_raise_what_pytorch_raises(call):
    # a CPU-only PyTorch raises AssertionError for CUDA and RuntimeError for MPS: ours is both
    with pytest.raises(AssertionError, match="chainrule computes on the CPU"):
        call()
    with pytest.raises(RuntimeError):
        call()


def test_accelerator_backends_mps_and_version():
    assert torch.accelerator.is_available() is False
    assert torch.accelerator.current_accelerator() is None
    assert torch.accelerator.device_count() == 0
    assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False
    assert torch.mps.is_available() is False and torch.mps.manual_seed(0) is None
    assert torch.xpu.is_available() is False
    assert torch.backends.cudnn.is_available() is False and torch.backends.cudnn.version() is None
    assert torch.backends.cuda.is_built() is False
    assert torch.version.cuda is None and torch.version.hip is None
    with torch.cuda.device(-1), torch.cuda.stream(None), torch.cuda.device_of(torch.ones(1)):
        pass


def test_backend_switches_keep_what_is_set():
    cudnn, matmul = torch.backends.cudnn, torch.backends.cuda.matmul
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (
        True, False, False, True)
    assert matmul.allow_tf32 is False
    try:
        cudnn.benchmark, cudnn.deterministic, matmul.allow_tf32 = True, True, True
        assert cudnn.benchmark and cudnn.deterministic and torch.backends.cuda.matmul.allow_tf32
        with cudnn.flags(enabled=False):
            assert cudnn.enabled is False
        assert cudnn.enabled is True
    finally:
        cudnn.benchmark, cudnn.deterministic, matmul.allow_tf32 = False, False, False


def test_device_objects_follow_pytorch():
    assert repr(torch.device("cuda")) == "device(type='cuda')"
    assert str(torch.device("cuda:1")) == "cuda:1" and torch.device("cuda:1").index == 1
    assert torch.device("cuda", 0) == torch.device("cuda:0") != torch.device("cuda")
    assert torch.device(torch.device("cpu")) == torch.device("cpu")
    assert str(torch.device("cpu", 0)) == "cpu:0"
    assert (torch.device("cpu") == "cpu") is False  # PyTorch compares devices with devices only
    assert pickle.loads(pickle.dumps(torch.device("cuda", 2))) == torch.device("cuda:2")
    assert len({torch.device("cpu"), torch.device("cpu")}) == 1
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        torch.device("gpu")
    with pytest.raises(RuntimeError, match="Invalid device string"):
        torch.device("cuda:x")


def test_the_usual_device_selection_lines_pick_the_cpu():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    use_accel = torch.accelerator.is_available()
    device2 = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    model = nn.Linear(3, 2).to(device)
    x = torch.ones(4, 3).to(device, non_blocking=True)
    assert model(x).device == device == device2 == torch.get_default_device()


def test_tensor_device_answers():
    t = torch.ones(2)
    assert t.device == torch.device("cpu") and t.is_cpu
    assert (t.is_cuda, t.is_mps, t.is_xpu, t.is_meta) == (False, False, False, False)
    assert t.cpu() is t and t.to("cpu") is t and t.get_device() == -1 and not t.is_pinned()


@pytest.mark.parametrize("move", [
    lambda: torch.ones(2).to("cuda"),
    lambda: torch.ones(2).to(torch.device("cuda", 0)),
    lambda: torch.ones(2).to(device="mps"),
    lambda: torch.ones(2).to(0),
    lambda: torch.ones(2).cuda(),
    lambda: torch.ones(2).pin_memory(),
    lambda: torch.zeros(2, device="cuda"),
    lambda: torch.tensor([1.0], device="cuda:0"),
    lambda: torch.randn(2, device=torch.device("mps")),
    lambda: torch.zeros_like(torch.ones(2), device="cuda"),
    lambda: torch.ones(2).new_zeros(3, device="cuda"),
    lambda: nn.Linear(2, 2).cuda(),
    lambda: nn.Linear(2, 2).to("cuda"),
    lambda: nn.Linear(2, 2, device="cuda"),
    lambda: torch.set_default_device("cuda"),
])
def test_moving_data_off_the_cpu_says_chainrule_computes_on_the_cpu(move):
    with pytest.raises(torch.cuda.DeviceUnavailableError, match="chainrule computes on the CPU"):
        move()


def test_default_device_and_dtype():
    assert torch.get_default_device() == torch.device("cpu")
    torch.set_default_device("cpu")
    torch.set_default_device(None)
    assert torch.get_default_dtype() == torch.float32
    try:
        torch.set_default_dtype(torch.float64)
        assert torch.get_default_dtype() == torch.float64
        assert torch.tensor([1.5]).dtype == torch.float64
        assert torch.zeros(2).dtype == torch.randn(2).dtype == torch.float64
        assert nn.Linear(2, 2).weight.dtype == torch.float64
        assert (torch.tensor([1, 2]) * 0.5).dtype == torch.float64  # Python floats follow it
        assert (torch.tensor([1, 2]) / 2).dtype == torch.float64
        assert torch.arange(3.0).dtype == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)
    assert torch.tensor([1.5]).dtype == torch.float32
    with pytest.raises(TypeError, match="floating-point"):
        torch.set_default_dtype(torch.int64)


def test_process_wide_switches():
    assert torch.get_float32_matmul_precision() == "highest"
    torch.set_float32_matmul_precision("high")
    assert torch.get_float32_matmul_precision() == "high"
    torch.set_float32_matmul_precision("highest")
    torch.use_deterministic_algorithms(True)
    assert torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    model = nn.Linear(2, 2)
    assert torch.compile(model) is model
    assert torch.compile(mode="max-autotune")(len) is len
