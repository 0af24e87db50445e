"""``LBFGS``: limited-memory BFGS over all parameters as one flat vector, with a closure."""

import functools

import numpy as np

from ..autograd.grad_mode import enable_grad, no_grad
from ._line_search import strong_wolfe
from .optimizer import Optimizer, _check, check_lr

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """L-BFGS (PyTorch's algorithm, after minFunc). ``step(closure)`` runs up to ``max_iter``
    iterations: the direction comes from the last ``history_size`` curvature pairs (the
    two-loop recursion), the step is ``lr`` (the first ever is ``min(1, 1/|g|_1) * lr``) or,
    with ``line_search_fn="strong_wolfe"``, one that satisfies the strong Wolfe conditions.
    It stops early when the gradient's largest entry is at most ``tolerance_grad`` or the
    loss or the step change by less than ``tolerance_change``. One parameter group only.

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
    >>> x, y = chainrule.randn(8, 3), chainrule.randn(8, 2)
    >>> def closure():
    ...     opt.zero_grad(); loss = F.mse_loss(model(x), y); loss.backward(); return loss
    >>> first = opt.step(closure)          # the loss before the step
    >>> bool(F.mse_loss(model(x), y) < first)
    True
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr, "max_iter": max_iter, "max_eval": max_eval,
            "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
            "history_size": history_size, "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        _check(len(self.param_groups) == 1,
               "LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _validate_group(self, group):
        check_lr(group)
        _check(group["line_search_fn"] in (None, "strong_wolfe"),
               f"line_search_fn must be None or 'strong_wolfe', got {group['line_search_fn']!r}")

    def add_param_group(self, param_group):
        _check(not self.param_groups,
               "LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # -- the parameters as one flat vector ---------------------------------------------------
    def _gather_flat_grad(self):
        return np.concatenate([
            np.zeros(p._data.size, p._data.dtype) if p.grad is None
            else p.grad._data.reshape(-1) for p in self._params
        ])

    def _add_grad(self, step_size, direction):
        offset = 0
        for p in self._params:
            size = p._data.size
            p._data += (step_size * direction[offset:offset + size]).reshape(p._data.shape)
            p._bump_version()
            offset += size

    def _set_params(self, arrays):
        for p, array in zip(self._params, arrays):
            p._data[...] = array
            p._bump_version()

    def _directional_evaluate(self, closure, start, direction, step_size):
        """Loss and flat gradient at ``start + step_size * direction``; the parameters are
        back at ``start`` afterwards."""
        self._add_grad(step_size, direction)
        value = float(self._evaluate(closure))
        gradient = self._gather_flat_grad()
        self._set_params(start)
        return value, gradient

    def _evaluate(self, closure):
        with enable_grad():
            return closure()

    def step(self, closure):
        """Run up to ``max_iter`` iterations; ``closure`` clears the gradients, computes the
        loss, calls backward and returns the loss. Returns the loss at the start."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model and "
                               "returns the loss: opt.step(closure)")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._evaluate(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss  # already optimal

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the descent direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep the pair only where the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                # the two-loop recursion: d = -H g
                al = [None] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                break  # not a descent direction

            evaluations = 0
            if group["line_search_fn"] == "strong_wolfe":
                start = [p._data.copy() for p in self._params]
                objective = functools.partial(self._directional_evaluate, closure, start, d)
                loss, flat_grad, t, evaluations = strong_wolfe(
                    objective, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                optimal = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                optimal = False
                if n_iter != max_iter:
                    # re-evaluate (not after the last iteration: the next step will)
                    loss = float(self._evaluate(closure))
                    flat_grad = self._gather_flat_grad()
                    optimal = np.abs(flat_grad).max() <= tolerance_grad
                    evaluations = 1
            current_evals += evaluations
            state["func_evals"] += evaluations

            if (n_iter == max_iter or current_evals >= max_eval or optimal
                    or np.abs(d * t).max() <= tolerance_change
                    or abs(loss - prev_loss) < tolerance_change):
                break

        state.update({"d": d, "t": t, "old_dirs": old_dirs, "old_stps": old_stps, "ro": ro,
                      "H_diag": h_diag, "prev_flat_grad": prev_flat_grad,
                      "prev_loss": prev_loss})
        return orig_loss
