"""The one error type that a damaged, foreign or malicious file raises."""


class CheckpointError(RuntimeError):
    """A file that cannot be loaded: corrupt, truncated, foreign, or not a regular file.

    The message starts with the file's name; ``path`` holds it too."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
