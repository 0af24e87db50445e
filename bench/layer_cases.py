"""The layer cases ``record_layer_fixtures.py`` records; chainrule's tests read the JSON."""

ACTIVATIONS = {
    "threshold": "nn.Threshold(0.2, -3.0)",
    "hardtanh": "nn.Hardtanh(-0.6, 0.8)",
    "relu6": "nn.ReLU6()",
    "hardsigmoid": "nn.Hardsigmoid()",
    "hardswish": "nn.Hardswish()",
    "hardshrink": "nn.Hardshrink(0.3)",
    "softshrink": "nn.Softshrink(0.4)",
    "prelu": "nn.PReLU()",
    "prelu-channels": "nn.PReLU(4, init=0.1)",
    "rrelu-eval": "nn.RReLU(0.1, 0.3)",
    "logsigmoid": "nn.LogSigmoid()",
    "selu": "nn.SELU()",
    "celu": "nn.CELU(0.7)",
    "mish": "nn.Mish()",
    "softsign": "nn.Softsign()",
    "tanhshrink": "nn.Tanhshrink()",
    "glu": "nn.GLU(1)",
    "softmin": "nn.Softmin(dim=1)",
    "softmax2d": "nn.Softmax2d()",
}

LAYER_CASES = {
    f"activation-{name}": {"expr": expr, "inputs": [{"shape": [2, 4, 3]}]}
    for name, expr in ACTIVATIONS.items()
}
# PyTorch's double kernels use float32 constants here (hardsigmoid's backward multiplies by
# 1.0f / 6.0f; celu's backward is off by ~1e-8 too): agreement to float32 rounding.
LAYER_CASES["activation-hardsigmoid"]["rtol"] = 1e-7
LAYER_CASES["activation-celu"]["rtol"] = 1e-7
LAYER_CASES["activation-logsigmoid-tails"] = {
    "expr": "F.logsigmoid", "inputs": [{"values": [-800.0, -40.0, -1.0, 0.0, 2.0, 40.0, 800.0]}]}
LAYER_CASES["activation-prelu-fn"] = {
    "expr": "F.prelu", "inputs": [{"shape": [2, 3, 5]}, {"values": [0.1, -0.2, 0.3]}]}

PADDING = {
    "reflection1d": ("nn.ReflectionPad1d((2, 1))", [2, 3, 5]),
    "reflection2d": ("nn.ReflectionPad2d((1, 2, 2, 0))", [2, 2, 3, 4]),
    "reflection3d": ("nn.ReflectionPad3d(1)", [1, 2, 3, 3, 4]),
    "reflection2d-unbatched": ("nn.ReflectionPad2d(1)", [2, 3, 4]),
    "replication1d": ("nn.ReplicationPad1d((3, 1))", [2, 3, 4]),
    "replication2d": ("nn.ReplicationPad2d((1, 2, 3, 0))", [2, 2, 3, 4]),
    "replication3d": ("nn.ReplicationPad3d((1, 0, 2, 1, 0, 2))", [1, 2, 2, 3, 4]),
    "circular1d": ("nn.CircularPad1d((2, 3))", [2, 3, 4]),
    "circular2d": ("nn.CircularPad2d((1, 2, 2, 1))", [2, 2, 3, 4]),
    "circular2d-crop": ("nn.CircularPad2d((-1, 2, 2, -1))", [2, 2, 3, 4]),
    "circular3d": ("nn.CircularPad3d(1)", [1, 2, 2, 3, 4]),
    "constant1d": ("nn.ConstantPad1d((2, 1), 3.5)", [2, 3, 4]),
    "constant2d": ("nn.ConstantPad2d((1, 0, -1, 2), -1.0)", [2, 2, 3, 4]),
    "constant3d": ("nn.ConstantPad3d(1, 0.5)", [1, 2, 2, 3, 4]),
    "zero1d": ("nn.ZeroPad1d(2)", [2, 3, 4]),
    "zero2d": ("nn.ZeroPad2d((1, 1, 2, 0))", [2, 2, 3, 4]),
    "zero3d": ("nn.ZeroPad3d((0, 1, 1, 0, 2, 1))", [1, 2, 2, 3, 4]),
    "f-pad-reflect": ("lambda x: F.pad(x, (1, 2, 2, 1), mode='reflect')", [2, 3, 4, 4]),
    "f-pad-replicate": ("lambda x: F.pad(x, (0, 2, 1, 1), mode='replicate')", [2, 3, 4, 4]),
    "f-pad-circular": ("lambda x: F.pad(x, (3, 1), mode='circular')", [2, 3, 4]),
}
for name, (expr, shape) in PADDING.items():
    LAYER_CASES[f"padding-{name}"] = {"expr": expr, "inputs": [{"shape": shape}]}
