"""``torch.profiler``: where the time of forward and backward goes, op by op (the recording
itself is the engine's, ``chainrule.autograd.profiler``)."""

from ..autograd.profiler import (EventList, FunctionEvent, FunctionEventAvg, ProfilerAction,
                                 ProfilerActivity, record_function, schedule,
                                 supported_activities, tensorboard_trace_handler)
from ..autograd.profiler import ScheduledProfile as profile

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities", "EventList", "FunctionEvent",
           "FunctionEventAvg"]
