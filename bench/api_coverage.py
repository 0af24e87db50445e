"""Which of PyTorch's public names chainrule has, which it leaves out on purpose (and why), and
which are still missing: writes docs/coverage.md and tests/compat/torch_module_paths.json.

    PYTHONPATH=src /work/torchenv/bin/python bench/api_coverage.py

PyTorch is imported only to read its public names (``dir()`` of torch, torch.nn,
torch.nn.functional, torch.optim, torch.optim.lr_scheduler, torch.utils.data, torch.Tensor,
torch.linalg, torch.special, torch.func and torch.autograd.functional,
without private names, re-exported standard-library objects and typing helpers). A name is
"left out on purpose" when it matches one of the categories below; each category says why."""

import inspect
import json
import re
import sys
import types
from pathlib import Path

import torch
import torch.autograd.functional
import torch.func
import torch.linalg
import torch.nn.functional
import torch.optim.lr_scheduler
import torch.special
import torch.utils.data

import chainrule
import chainrule.nn.functional
import chainrule.optim.lr_scheduler
import chainrule.utils.data

ROOT = Path(__file__).resolve().parent.parent

NAMESPACES = [
    ("torch", torch, chainrule),
    ("torch.nn", torch.nn, chainrule.nn),
    ("torch.nn.functional", torch.nn.functional, chainrule.nn.functional),
    ("torch.optim", torch.optim, chainrule.optim),
    ("torch.optim.lr_scheduler", torch.optim.lr_scheduler, chainrule.optim.lr_scheduler),
    ("torch.utils.data", torch.utils.data, chainrule.utils.data),
    ("torch.Tensor", torch.Tensor, chainrule.Tensor),
    ("torch.linalg", torch.linalg, chainrule.linalg),
    ("torch.special", torch.special, chainrule.special),
    ("torch.func", torch.func, chainrule.func),
    ("torch.autograd.functional", torch.autograd.functional, chainrule.autograd.functional),
]

# (category, reason, pattern on the name). The first match decides.
LEFT_OUT = [
    ("quantized", "quantized tensors and integer inference kernels: chainrule trains in "
     "floating point on NumPy",
     r"quant|^q_|qint|quint|^dequantize|fake_quant|fbgemm|^int_repr|QInt|QUInt|per_channel|"
     r"per_tensor|qscheme|^choose_qparams|^intrinsic$|^qat$"),
    ("sparse", "sparse layouts: chainrule's tensors are dense NumPy arrays",
     r"sparse|^spmm$|^smm$|^hsmm$|^sspaddmm$|_coo|_csr|_csc|_bsr|_bsc|coalesce|^indices$|"
     r"^values$|crow_|col_indices|row_indices|ccol|^to_dense$|^dense_dim$|^saddmm$|SparseAdam|"
     r"^dsmm$|^hspmm$"),
    ("complex", "complex dtypes: chainrule's dtypes are real",
     r"complex|^conj|^is_conj|resolve_conj|resolve_neg|^is_neg$|view_as_real|^polar$|"
     r"^real$|^imag$|^angle$|^cfloat$|^cdouble$|^chalf$|^adjoint$|^fft$|^stft$|^istft$|^eig$|"
     r"^is_complex$|^sgn$|^eigvals$"),
    ("dtype", "dtypes NumPy has no arithmetic for (float8, 4-bit, bit and wide unsigned types)",
     r"^float8|^float4|^uint(16|32|64)$|^u?int[1-7]$|^bits?$|^bits|^BFloat16"),
    ("backend", "accelerator and vendor back-ends (CUDA kernels, cuDNN, MKL-DNN, MIOpen, MPS, "
     "XPU, nested tensors): chainrule computes on the CPU through NumPy",
     r"cudnn|miopen|mkldnn|^nnpack|xnnpack|vulkan|^mtia|^hpu|^ipu|nested|jagged|"
     r"^inference_mode$|^cpu$|^fbgemm|^mps$|^xpu$|^cuda$|^is_ipu$|^is_maia$|^is_mkldnn$|"
     r"^is_vulkan$|^is_xla$|^is_mtia$|^is_hpu$|^is_xpu$|^record_stream$|^pin_memory$|"
     r"^to_padded_tensor$|"
     r"^is_pinned$|^device_index$|^stream$|^Stream$|^Event$|^StreamContext$"),
    ("compiler", "tracing, compiling and exporting graphs (TorchScript, FX, Dynamo, symbolic "
     "shapes): chainrule runs eagerly, and torch.compile returns the model unchanged",
     r"^jit$|^fx$|^compiler$|^export$|^library$|^ops$|^classes$|^package$|^sym_|^Sym|^cond$|"
     r"^while_loop$|^compiled_with|^overrides$|^monitor$|^profiler$|"
     r"^ScriptModule|^script|^trace|^onnx$|^fake_|^guard|^Guard|^TypedStorage|^UntypedStorage|"
     r"torch_function|^has_torch_function|^handle_torch_function|^boolean_dispatch|"
     r"^BroadcastingList|^is_grad_enabled_for|^functional_datapipe|DataPipe|datapipes|^graph$|"
     r"^graph_settings|^runtime_validation|^argument_validation|^guaranteed_datapipes|"
     r"^non_deterministic|^DataChunk|^DFIterDataPipe|^autocast_increment_nesting|"
     r"^autocast_decrement_nesting|^set_autocast_cache|^is_autocast_cache|^clear_autocast_cache"
     r"|^get_autocast_|^set_autocast_|^is_autocast_(cpu|ipu|xla)|^export|^unify_type|^AVG$|^SUM$|"
     r"^DisableTorchFunction|^FatalError$|^JITException$|^cpp$|^futures$|^fork$|^wait$|"
     r"^import_ir_module|^parse_ir$|^parse_schema$|^parse_type_comment$|^merge_type_from|"
     r"^profiler_allow|^thread_safe_generator$|^init_num_threads$|^get_device_module$|"
     r"^legacy_contiguous_format$|^masked$|^ao$|^hash_tensor$|^slice_inverse$"),
    ("storage", "storage objects and shared memory: a chainrule tensor holds a NumPy array",
     r"Storage$|^storage$|untyped_storage|^set_$|share_memory|^is_shared$|^from_file$|"
     r"^storage_type$|^StorageBase$|^_?storage|^new_empty_strided$"),
    ("named", "named tensors (a prototype in PyTorch)",
     r"^names$|^rename_?$|^refine_names$|^align_to$|^align_as$|^has_names$|^align_tensors$"),
    ("copy-variant", "the *_copy forms of views (PyTorch's functionalization internals): "
     "take the view and .clone() it", r"_copy$"),
    ("aten", "ATen kernel entry points that PyTorch's own layers call (use the nn layer, the "
     "torch.nn.functional function or the ordinary op instead)",
     r"^native_|_backward$|^batch_norm_|^fused_|^embedding_renorm_|^segment_reduce$|"
     r"^conv_tbc$|^convolution$|^rnn_tanh|^rnn_relu|^lstm_cell$|^gru_cell$|^lstm$|^gru$|"
     r"^quantized_|^cudnn_|^miopen_|_out$|^resize_as_sparse_|^grouped_mm$|^scaled_grouped_mm$|"
     r"^scaled_mm$|^multi_head_attention_forward$|^native_channel_shuffle$|^feature_dropout|"
     r"^feature_alpha_dropout_?$|^alpha_dropout_$|^ScalingType$|^SwizzleType$|^grid_sampler|"
     r"^affine_grid_generator$|^embedding_bag$|^adaptive_max_pool1d$|^dropout_$|"
     r"^norm_except_dim$"),
    ("documentation", "documentation strings and typing helpers, not API",
     r"_notes$|^TYPE_CHECKING$|^assert_int_or_pair$|^common_types$|^factory_kwargs$|"
     r"^EPOCH_DEPRECATION_WARNING$|^inf$|^Tensor$|^Optimizer$|^USE_|^classproperty$|"
     r"^LoggerBase$|^PRIVATE_OPS$|^builtins$|^return_types$|^types$|^torch_version$|"
     r"^get_file_path$|^prepare_multiprocessing_environment$|^torch$|^windows$|"
     r"^GRID_SAMPLE_|^common_args$|^multi_dim_common$"),
]

REASONS = {category: reason for category, reason, _ in LEFT_OUT}


def _is_typing_helper(value):
    module = getattr(value, "__module__", None)
    return isinstance(module, str) and not module.startswith("torch") and not isinstance(
        value, types.ModuleType)


def public_names(namespace):
    """PyTorch's public names of ``namespace``: not private, not a standard-library module or
    object re-exported by it."""
    names = []
    for name in dir(namespace):
        if name.startswith("_"):
            continue
        try:
            value = getattr(namespace, name)
        except Exception:  # noqa: BLE001 - some attributes raise on access; not API then
            continue
        if isinstance(value, types.ModuleType) and not value.__name__.startswith("torch"):
            continue
        if _is_typing_helper(value):
            continue
        names.append(name)
    return names


def category_of(name, value=None):
    if inspect.isclass(value) and type(value).__name__ == "pybind11_type" and name not in (
            "Generator", "Size", "dtype", "device", "finfo", "iinfo"):
        return "compiler", REASONS["compiler"]  # TorchScript's and the C++ core's classes
    for category, reason, pattern in LEFT_OUT:
        if re.search(pattern, name):
            return category, reason
    return None


def kind_of(value):
    if inspect.isclass(value):
        if issubclass(value, torch.nn.Module):
            return "layer/loss class"
        if issubclass(value, torch.optim.Optimizer):
            return "optimizer class"
        if issubclass(value, torch.optim.lr_scheduler.LRScheduler) or value.__name__ in (
                "ReduceLROnPlateau",):
            return "scheduler class"
        return "class"
    if isinstance(value, types.ModuleType):
        return "module"
    return "function/attribute"


def classify(label, torch_ns, ours):
    rows = []
    for name in public_names(torch_ns):
        value = getattr(torch_ns, name)
        if hasattr(ours, name):
            status, reason = "has", ""
        else:
            found = category_of(name, value)
            status, reason = ("left out", found[1]) if found else ("missing", "")
            if found:
                reason = f"{found[0]}: {found[1]}"
        rows.append({"name": name, "kind": kind_of(value), "status": status, "reason": reason})
    return rows


def summarise(rows):
    has = sum(r["status"] == "has" for r in rows)
    left = sum(r["status"] == "left out" for r in rows)
    missing = sum(r["status"] == "missing" for r in rows)
    rest = has + missing
    return has, left, missing, (100.0 * has / rest if rest else 100.0)


def class_goal(all_rows):
    """Every layer, loss, optimizer and scheduler class outside the left-out categories."""
    wanted = [(label, r) for label, rows in all_rows for r in rows
              if r["kind"] in ("layer/loss class", "optimizer class", "scheduler class")
              and r["status"] != "left out"]
    return wanted, [f"{label}.{r['name']}" for label, r in wanted if r["status"] != "has"]


def write_report(all_rows):
    lines = [
        "# Coverage of PyTorch's public names",
        "",
        "Generated by `PYTHONPATH=src /work/torchenv/bin/python bench/api_coverage.py` against "
        f"PyTorch {torch.__version__}; do not edit by hand. A name counts as present when "
        "chainrule has it at the same place (`torch.X` ↔ `chainrule.X`, `torch.nn.X` ↔ "
        "`chainrule.nn.X`, `torch.Tensor.X` ↔ `chainrule.Tensor.X`, ...). Names in the "
        "left-out categories are left out on purpose, for the reason given; the percentage is "
        "of the rest.",
        "",
        "| namespace | PyTorch names | chainrule has | left out on purpose | missing | "
        "coverage of the rest |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    totals = [0, 0, 0]
    for label, rows in all_rows:
        has, left, missing, percent = summarise(rows)
        totals = [totals[0] + has, totals[1] + left, totals[2] + missing]
        lines.append(f"| `{label}` | {len(rows)} | {has} | {left} | {missing} | "
                     f"{percent:.1f}% |")
    has, left, missing = totals
    lines.append(f"| all | {has + left + missing} | {has} | {left} | {missing} | "
                 f"{100.0 * has / (has + missing):.1f}% |")
    wanted, lacking = class_goal(all_rows)
    lines += ["", f"Layer, loss, optimizer and scheduler classes (outside the left-out "
              f"categories): {len(wanted) - len(lacking)} of {len(wanted)} present"
              + (f"; missing: {', '.join(lacking)}." if lacking else "."), ""]
    lines += ["## Left out on purpose", "", "| category | why |", "| --- | --- |"]
    lines += [f"| {category} | {reason} |" for category, reason, _ in LEFT_OUT]
    for label, rows in all_rows:
        lines += ["", f"## `{label}`", ""]
        for status, title in (("missing", "Missing"), ("left out", "Left out on purpose"),
                              ("has", "Present")):
            chosen = [r for r in rows if r["status"] == status]
            if not chosen:
                continue
            if status == "left out":
                lines.append(f"{title} ({len(chosen)}): " + ", ".join(
                    f"`{r['name']}` ({r['reason'].split(':')[0]})" for r in chosen))
            else:
                lines.append(f"{title} ({len(chosen)}): "
                             + ", ".join(f"`{r['name']}`" for r in chosen))
            lines.append("")
    path = ROOT / "docs" / "coverage.md"
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    return totals


# -- PyTorch's module paths, for tests/compat/test_module_paths.py ---------------------------
PATH_PACKAGES = ["torch.nn.modules", "torch.utils.data", "torch.nn.parallel", "torch.nn.utils",
                 "torch.optim", "torch.amp", "torch.autograd"]
# Names a module re-exports that programs import from it (not only from its package).
REEXPORTS = {"torch.utils.data.dataloader": ["default_collate"]}


def module_paths():
    """{module path: [public names defined there]} for the submodules of PATH_PACKAGES that
    PyTorch programs import from, e.g. ``torch.nn.modules.activation: [CELU, ...]``."""
    import importlib
    import pkgutil

    paths = {}
    for package_name in PATH_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("_"):
                continue
            name = f"{package_name}.{info.name}"
            try:
                module = importlib.import_module(name)
            except Exception:  # noqa: BLE001 - optional parts of PyTorch
                continue
            defined = [n for n in public_names(module)
                       if getattr(getattr(module, n), "__module__", None) == name]
            paths[name] = sorted(set(defined) | set(REEXPORTS.get(name, [])))
    return paths


def main():
    all_rows = [(label, classify(label, torch_ns, ours)) for label, torch_ns, ours in NAMESPACES]
    has, left, missing = write_report(all_rows)
    print(f"has {has}, left out {left}, missing {missing}: "
          f"{100.0 * has / (has + missing):.1f}% of the rest")
    for label, rows in all_rows:
        print(label, summarise(rows))
    path = ROOT / "tests" / "compat" / "torch_module_paths.json"
    path.write_text(json.dumps(module_paths(), indent=0, sort_keys=True) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
