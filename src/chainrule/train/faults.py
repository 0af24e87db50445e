"""A test hook: make a training process signal itself at an exact point of a step.

``CHAINRULE_FAULT=PHASE@STEP:SIGNAL`` (e.g. ``optimizer@7:KILL``) makes the process send itself
SIGNAL (KILL, INT, TERM) when step STEP reaches PHASE; ``INT2`` and ``TERM2`` send it twice
(an impatient Ctrl-C, a service manager that insists). Tests use it to interrupt a run at a
chosen moment without sleeping or watching the clock. Unset (as always outside tests), it costs
one comparison per phase.

Phases, in the order a step goes through them: ``data`` (before the batch is fetched),
``forward``, ``backward``, ``optimizer`` (the update applied, the schedule and the step counter
not yet advanced), ``checkpoint`` (a checkpoint of this step is on disk under its temporary name,
not yet renamed), ``best`` (the step's checkpoint is written, best.safetensors not yet updated).
Step 0 is the checkpoint written before training starts."""

import os
import signal

PHASES = ("data", "forward", "backward", "optimizer", "checkpoint", "best")
VARIABLE = "CHAINRULE_FAULT"
_SIGNALS = {"KILL": (signal.SIGKILL,), "INT": (signal.SIGINT,),
            "INT2": (signal.SIGINT, signal.SIGINT), "TERM": (signal.SIGTERM,),
            "TERM2": (signal.SIGTERM, signal.SIGTERM)}


class Faults:
    """The fault, if any, that the environment asks for."""

    def __init__(self, spec=None):
        spec = os.environ.get(VARIABLE, "") if spec is None else spec
        self.point, self.signals = None, ()
        if spec:
            self.point, self.signals = _parse(spec)

    def reached(self, phase, step):
        """Called at each phase of each step: signal this process (once) if it is the chosen
        point."""
        if self.point == (phase, step):
            self.point = None
            for number in self.signals:
                os.kill(os.getpid(), number)


def _parse(spec):
    try:
        where, name = spec.split(":")
        phase, step = where.split("@")
        if phase not in PHASES or name not in _SIGNALS:
            raise ValueError
        return (phase, int(step)), _SIGNALS[name]
    except ValueError:
        raise ValueError(
            f"{VARIABLE}={spec!r}: expected PHASE@STEP:SIGNAL with PHASE one of "
            f"{', '.join(PHASES)} and SIGNAL one of {', '.join(_SIGNALS)}"
        ) from None
