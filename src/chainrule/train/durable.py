"""Making checkpoints durable off the training thread.

NOTE: a checkpoint is written atomically (temporary file, rename) on the training thread, and
its fsyncs (the file's, then the folder's) run on a background thread, where they wait on the
disk without holding the interpreter: the demo's 57 checkpoints spent about 1 s of its wall time
in fsync. A killed process loses nothing by this (the bytes are in the page cache). After a
crash of the machine the newest checkpoint may be torn, and resuming skips it for the one
before, which is durable: ``save_checkpoint`` waits for the previous checkpoint's fsyncs before
it deletes anything older, and the trainer waits for the last ones before it reports a
checkpoint as saved or the run as finished."""

import threading

from ..io.files import make_durable


class BackgroundSync:
    """fsyncs of written files on a background thread, one batch at a time."""

    def __init__(self):
        self._thread = None
        self._error = None

    def start(self, paths, directory):
        """fsync ``paths`` and then ``directory`` in the background, after the batch before
        (whose errors this raises)."""
        self.wait()
        self._thread = threading.Thread(target=self._sync, args=(list(paths), directory),
                                        name="chainrule-checkpoint-sync", daemon=True)
        self._thread.start()

    def _sync(self, paths, directory):
        try:
            make_durable(paths, directory)
        except OSError as error:
            self._error = error

    def wait(self):
        """Return once every file started is on disk; OSError if an fsync failed."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise OSError(error.errno, f"could not make a checkpoint durable: {error.strerror}"
                                       f" ({error.filename})")
