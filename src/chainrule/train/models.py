"""The presets' networks for own data: ``tabular`` (an MLP with embeddings for categorical
columns) and the series forecasters (``mlp`` and ``lstm`` over a window of past values).

Each is built from the preprocessing saved with the model, so a run directory rebuilds its
network without the training data."""

import math

from .. import nn
from ..data.preprocessing import ImagePreprocessor, SeriesPreprocessor, TablePreprocessor
from ..ops.join import cat


def embedding_size(levels):
    """A category count's embedding width: fast.ai's rule of thumb 1.6 * levels^0.56, at most
    16 (our tables are small)."""
    return max(2, min(16, round(1.6 * levels ** 0.56)))


def _hidden_layers(width, hidden_size, num_layers, dropout):
    layers = []
    for _ in range(num_layers):
        layers += [nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden_size
    return layers, width


class TabularNet(nn.Module):
    """Input: float32 (N, F), the numeric and one-hot columns first, then one category code per
    embedded column (see TablePreprocessor). Each code goes through its own Embedding; the
    embeddings and the numeric columns feed ``num_layers`` x (Linear, ReLU, Dropout) and a
    Linear output (class logits, or one value for regression)."""

    def __init__(self, num_numeric, embedded_levels, num_outputs, hidden_size, num_layers,
                 dropout):
        super().__init__()
        self.num_numeric = num_numeric
        self.embeddings = nn.ModuleList(
            [nn.Embedding(levels, embedding_size(levels)) for levels in embedded_levels])
        width = num_numeric + sum(embedding_size(levels) for levels in embedded_levels)
        layers, width = _hidden_layers(width, hidden_size, num_layers, dropout)
        self.mlp = nn.Sequential(*layers, nn.Linear(width, num_outputs))

    def forward(self, x):
        parts = [x[:, :self.num_numeric]]
        for index, embedding in enumerate(self.embeddings):
            parts.append(embedding(x[:, self.num_numeric + index].long()))
        return self.mlp(cat(parts, dim=1) if len(parts) > 1 else parts[0])


class SeriesLSTM(nn.Module):
    """Windows of past values (N, channels * window: the target's window, then each
    feature's) read one time step (``channels`` values) at a time by an LSTM; a Linear layer
    maps its last hidden state to the next ``horizon`` values."""

    def __init__(self, horizon, hidden_size, num_layers, dropout, channels=1):
        super().__init__()
        self.channels = channels
        self.lstm = nn.LSTM(channels, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, horizon)

    def forward(self, windows):
        steps = windows.reshape(-1, self.channels, windows.shape[1] // self.channels)
        output, _ = self.lstm(steps.transpose(1, 2))
        return self.head(output[:, -1])


def build_for_preprocessor(config, preprocessor):
    """The preset network for data that this preprocessing turns into inputs."""
    from .presets import cnn, mlp

    hidden, layers, dropout = config.hidden_size, config.num_layers, config.dropout
    if isinstance(preprocessor, TablePreprocessor):
        return TabularNet(preprocessor.num_numeric_inputs, preprocessor.embedded_levels,
                          preprocessor.num_outputs, hidden, layers, dropout)
    if isinstance(preprocessor, SeriesPreprocessor):
        if config.model == "lstm":
            return SeriesLSTM(preprocessor.horizon, hidden, layers, dropout,
                              preprocessor.channels)
        return mlp((preprocessor.channels * preprocessor.window,), preprocessor.horizon, hidden,
                   layers, dropout)
    if isinstance(preprocessor, ImagePreprocessor):
        if config.model == "cnn":
            return cnn(preprocessor.input_shape, len(preprocessor.classes), hidden, dropout)
        return mlp(preprocessor.input_shape, len(preprocessor.classes), hidden, layers, dropout)
    raise TypeError(f"no preset network for {type(preprocessor).__name__}")


def parameter_count_for_preprocessor(config, preprocessor):
    """The parameter count of ``build_for_preprocessor(config, preprocessor)``, computed
    without building it (see presets.parameter_count)."""
    from .presets import cnn_parameters, lstm_parameters, mlp_parameters

    hidden, layers = config.hidden_size, config.num_layers
    if isinstance(preprocessor, TablePreprocessor):
        levels = preprocessor.embedded_levels
        embedded = sum(n * embedding_size(n) for n in levels)
        width = preprocessor.num_numeric_inputs + sum(embedding_size(n) for n in levels)
        return embedded + mlp_parameters(width, preprocessor.num_outputs, hidden, layers)
    if isinstance(preprocessor, SeriesPreprocessor):
        horizon = preprocessor.horizon
        channels = preprocessor.channels
        if config.model == "lstm":
            return lstm_parameters(channels, hidden, layers) + hidden * horizon + horizon
        return mlp_parameters(channels * preprocessor.window, horizon, hidden, layers)
    if isinstance(preprocessor, ImagePreprocessor):
        classes = len(preprocessor.classes)
        if config.model == "cnn":
            return cnn_parameters(preprocessor.input_shape, classes, hidden)
        return mlp_parameters(math.prod(preprocessor.input_shape), classes, hidden, layers)
    raise TypeError(f"no preset network for {type(preprocessor).__name__}")
