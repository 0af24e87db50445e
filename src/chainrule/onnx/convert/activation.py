"""Activations, softmax and its relatives."""

import math

from . import op
from .common import reduce, scalar


def _normal_cdf(g, step, x):
    scaled = g.node("Div", [x, scalar(g, step, math.sqrt(2.0))])
    erf = g.node("Erf", [scaled])
    return g.node("Mul", [g.node("Add", [erf, scalar(g, step, 1.0)]), scalar(g, step, 0.5)])


@op("Ndtr")
def ndtr(g, step):
    g.node("Identity", [_normal_cdf(g, step, g.x(step))], g.outs(step))


@op("Gelu")
def gelu(g, step):
    x = g.x(step)
    if step.options.get("approximate", "none") == "tanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, scalar(g, step, 0.044715)])])
        inner = g.node("Mul", [inner, scalar(g, step, math.sqrt(2.0 / math.pi))])
        half = g.node("Mul", [g.node("Add", [g.node("Tanh", [inner]), scalar(g, step, 1.0)]),
                              scalar(g, step, 0.5)])
        g.node("Mul", [x, half], g.outs(step))
        return
    g.node("Mul", [x, _normal_cdf(g, step, x)], g.outs(step))


@op("Silu")
def silu(g, step):
    x = g.x(step)
    g.node("Mul", [x, g.node("Sigmoid", [x])], g.outs(step))


@op("Elu")
def elu(g, step):
    g.node("Elu", [g.x(step)], g.outs(step), alpha=float(step.options.get("alpha", 1.0)))


@op("LeakyRelu")
def leaky_relu(g, step):
    g.node("LeakyRelu", [g.x(step)], g.outs(step),
           alpha=float(step.options.get("negative_slope", 0.01)))


@op("Softplus")
def softplus(g, step):
    x = g.x(step)
    beta, threshold = step.options.get("beta", 1.0), step.options.get("threshold", 20.0)
    scaled = g.node("Mul", [x, scalar(g, step, beta)])
    soft = g.node("Div", [g.node("Softplus", [scaled]), scalar(g, step, beta)])
    linear = g.node("Greater", [scaled, scalar(g, step, threshold)])
    g.node("Where", [linear, x, soft], g.outs(step))


@op("LogSigmoid")
def log_sigmoid(g, step):
    # min(x, 0) - log(1 + exp(-|x|)), as the op computes it: no overflow in either tail
    x = g.x(step)
    tail = g.node("Log", [g.node("Add", [g.node("Exp", [g.node("Neg", [g.node("Abs", [x])])]),
                                         scalar(g, step, 1.0)])])
    g.node("Sub", [g.node("Min", [x, scalar(g, step, 0.0)]), tail], g.outs(step))


@op("Softmax", "LogSoftmax")
def softmax(g, step):
    g.node(step.op, [g.x(step)], g.outs(step), axis=int(step.options["dim"]))


@op("Logsumexp")
def logsumexp(g, step):
    reduce(g, "ReduceLogSumExp", g.x(step), step.options["axes"], step.options["keepdim"],
           g.outs(step))


