"""Model presets for ``chainrule train``: an MLP and a small CNN for images, a character LSTM
and a small GPT for text. Sizes left at None in the config take the defaults below."""

from .. import nn

DEFAULTS = {
    "mlp": {"hidden_size": 256, "num_layers": 2, "dropout": 0.2},
    "cnn": {"hidden_size": 128, "num_layers": 2, "dropout": 0.25},
    "lstm": {"hidden_size": 256, "num_layers": 1, "block_size": 64, "dropout": 0.0},
    "gpt": {"hidden_size": 128, "num_layers": 2, "block_size": 64, "num_heads": 4,
            "dropout": 0.1},
    "tabular": {"hidden_size": 128, "num_layers": 2, "dropout": 0.1},
}
# where a preset's sizes differ by data kind (forecasters are smaller than text models)
DATA_DEFAULTS = {
    ("mlp", "series"): {"hidden_size": 128, "num_layers": 2, "dropout": 0.0},
    ("lstm", "series"): {"hidden_size": 64, "num_layers": 1, "dropout": 0.0},
}


def resolved_sizes(config):
    """The preset's defaults with the config's explicit sizes on top."""
    sizes = dict(DATA_DEFAULTS.get((config.model, config.data), DEFAULTS[config.model]))
    for key in sizes:
        value = getattr(config, key)
        if value is not None:
            sizes[key] = value
    return sizes


def mlp(in_shape, num_classes, hidden_size, num_layers, dropout):
    """Flatten, then ``num_layers`` x (Linear, ReLU, Dropout), then a Linear classifier."""
    features = 1
    for size in in_shape:
        features *= size
    layers = [nn.Flatten()]
    for _ in range(num_layers):
        layers += [nn.Linear(features, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
        features = hidden_size
    layers.append(nn.Linear(features, num_classes))
    return nn.Sequential(*layers)


def cnn(in_shape, num_classes, hidden_size, num_layers, dropout):
    """The classic two-convolution MNIST network (3x3 convolutions, padded so that 8x8 digits
    fit), max pooling, and two Linear layers."""
    channels, height, width = in_shape
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(dropout), nn.Flatten(),
        nn.Linear(64 * (height // 2) * (width // 2), hidden_size), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden_size, num_classes),
    )


class CharLSTM(nn.Module):
    """Embedding, LSTM, and a Linear layer to next-character logits."""

    def __init__(self, vocab_size, hidden_size, num_layers, dropout, block_size):
        super().__init__()
        self.block_size = block_size
        self.embedding = nn.Embedding(vocab_size, 64)
        self.lstm = nn.LSTM(64, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens):
        output, _ = self.lstm(self.embedding(tokens))
        return self.head(output)


class CharGPT(nn.Module):
    """A small GPT: token and position embeddings, pre-LayerNorm transformer blocks with
    causal self-attention and a GELU MLP, a final LayerNorm and a Linear head."""

    def __init__(self, vocab_size, hidden_size, num_layers, num_heads, dropout, block_size):
        super().__init__()
        self.block_size = block_size
        self.token_embedding = nn.Embedding(vocab_size, hidden_size)
        self.position_embedding = nn.Embedding(block_size, hidden_size)
        block = nn.TransformerEncoderLayer(
            hidden_size, num_heads, dim_feedforward=4 * hidden_size, dropout=dropout,
            activation="gelu", batch_first=True, norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(block, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden_size)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens):
        from .. import arange, ones, triu

        length = tokens.shape[1]
        if length > self.block_size:
            raise ValueError(f"sequence length {length} exceeds block_size {self.block_size}")
        positions = arange(length)
        x = self.token_embedding(tokens) + self.position_embedding(positions)
        future = triu(ones(length, length, dtype=bool), diagonal=1)
        x = self.blocks(x, mask=future, is_causal=True)
        return self.head(self.norm(x))


def build_model(config, task):
    """The preset model for ``config`` sized for ``task`` (input shape, classes or vocabulary)."""
    sizes = resolved_sizes(config)
    if getattr(task, "preprocessor", None) is not None:  # own data: tables, folders, series
        from .models import build_for_preprocessor

        return build_for_preprocessor(config, task.preprocessor, sizes)
    if config.model == "mlp":
        return mlp(task.input_shape, task.num_classes, sizes["hidden_size"], sizes["num_layers"],
                   sizes["dropout"])
    if config.model == "cnn":
        return cnn(task.input_shape, task.num_classes, sizes["hidden_size"], sizes["num_layers"],
                   sizes["dropout"])
    if config.model == "lstm":
        return CharLSTM(task.vocab_size, sizes["hidden_size"], sizes["num_layers"],
                        sizes["dropout"], sizes["block_size"])
    return CharGPT(task.vocab_size, sizes["hidden_size"], sizes["num_layers"],
                   sizes["num_heads"], sizes["dropout"], sizes["block_size"])
