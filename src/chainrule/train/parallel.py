"""The trainer's view of data parallelism. ``chainrule.distributed.training.TrainingContext``
provides the same methods over MPI; the command line passes it in when launched under
``mpiexec -n N``. This single-process stand-in keeps the training layer free of MPI."""


class SingleProcess:
    """A world of one: no wrapping, no sharding, nothing to average."""

    rank, world_size, distributed, is_main = 0, 1, False, True

    def wrap_model(self, model):
        return model

    def shard_batch(self, *tensors):
        return (*tensors, 1.0)

    def average(self, values, count=1):
        return dict(values)

    def broadcast_object(self, value):
        return value

    def barrier(self):
        pass
