"""The four architectures of the diagnostics suite, small enough to train in a fraction of a
second: an MLP, a CNN, a recurrent net and a small transformer. Lines where a setup makes a
NaN on purpose carry a marker comment (``# NAN: name``) that the tests look up."""

import math

import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F


def mlp(widths, activation=nn.ReLU, init=None):
    """Linear layers of ``widths`` with ``activation`` between them, as one Sequential (layer
    names "0", "1", ...). ``init(linear)`` is applied to every Linear."""
    layers = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    model = nn.Sequential(*layers[:-1])
    for layer in model:
        if init is not None and isinstance(layer, nn.Linear):
            init(layer)
    return model


def kaiming(layer):
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)


def scaled(model, gain):
    """``model`` with every Linear and Conv2d weight multiplied by ``gain``."""
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                layer.weight.mul_(gain)
    return model


def recurrent_gain(model, gain, rnn=None):
    """``model`` with the recurrent weights of ``rnn`` (its ``rnn`` by default) multiplied
    by ``gain``: the signal through time amplified ``gain`` times a step."""
    with torch.no_grad():
        (model.rnn if rnn is None else rnn).weight_hh_l0.mul_(gain)
    return model


def cnn(channels=(1, 8, 8), activation=nn.ReLU, side=10, classes=2, batch_norm=False):
    """3x3 convolutions (padding 1) of ``channels`` with ``activation``, then a linear head."""
    layers = []
    for c_in, c_out in zip(channels, channels[1:]):
        layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(activation())
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels[-1] * side * side, classes))


class Recurrent(nn.Module):
    """A recurrent layer (``kind``: "RNN", "LSTM", "GRU") read at its last step by a head."""

    def __init__(self, kind="RNN", features=4, hidden=16, classes=2, **options):
        super().__init__()
        self.rnn = getattr(nn, kind)(features, hidden, batch_first=True, **options)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class StackedRecurrent(nn.Module):
    """Several one-layer RNNs in a row (each its own layer, so each is measured)."""

    def __init__(self, depth, features=4, hidden=16, classes=2):
        super().__init__()
        self.rnns = nn.ModuleList(nn.RNN(features if i == 0 else hidden, hidden,
                                         batch_first=True) for i in range(depth))
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        for rnn in self.rnns:
            x, _ = rnn(x)
        return self.head(x[:, -1])


class TinyGPT(nn.Module):
    """Token and position embeddings, pre-norm encoder layers with a causal mask, a head."""

    def __init__(self, vocab=12, width=16, context=8, layers=2, activation="relu",
                 norm_first=True):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(context, width)
        layer = nn.TransformerEncoderLayer(width, 2, dim_feedforward=32, dropout=0.0,
                                           activation=activation, batch_first=True,
                                           norm_first=norm_first)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", torch.triu(torch.ones(context, context, dtype=torch.bool),
                                                diagonal=1))

    def embed(self, x):
        return self.tokens(x) + self.positions(torch.arange(x.shape[1]))

    def forward(self, x):
        h = self.blocks(self.embed(x), mask=self.mask, is_causal=True)
        return self.head(self.norm(h))


def sequence_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class MaskedAttentionLM(nn.Module):
    """One attention layer written out (scores, masked_fill, softmax) over a padding mask that
    hides every key from the tokens equal to ``pad``: their rows are all -inf."""

    def __init__(self, vocab=12, width=16, pad=None):
        super().__init__()
        self.pad = pad
        self.tokens = nn.Embedding(vocab, width)
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.head = nn.Linear(width, vocab)

    def forward(self, x):
        h = self.tokens(x)
        scores = self.query(h) @ self.key(h).transpose(1, 2) / 4.0
        hidden = (x == self.pad).unsqueeze(1) | (x == self.pad).unsqueeze(2)
        scores = scores.masked_fill(hidden, float("-inf"))
        weights = scores.softmax(dim=-1)  # NAN: masked softmax
        return self.head(weights @ h)


class LogScale(nn.Module):
    """An MLP whose output is shifted by log(relu(scale)); training drives scale to zero."""

    def __init__(self):
        super().__init__()
        self.body = mlp([16, 32, 2])
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.body(x) + torch.log(self.scale.relu())  # NAN: log in model


class RootFeatures(nn.Module):
    """A CNN whose features are sqrt of a ReLU written as a product with its mask: fine
    forward; backward, sqrt's infinite gradient at 0 times the mask's 0 is nan (as in PyTorch;
    F.relu would select, and give 0 there)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4 * 10 * 10, 2)

    def forward(self, x):
        h = self.conv(x)
        features = (h * (h > 0)).sqrt()  # NAN: sqrt backward in model
        return self.head(features.flatten(1))


class UnitNorm(nn.Module):
    """A transformer-style block that scales each token to unit length by hand."""

    def __init__(self, vocab=12, width=16):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.mix = nn.Linear(width, width)
        self.head = nn.Linear(width, vocab)
        with torch.no_grad():
            self.tokens.weight[0] = 0.0  # token 0 embeds to the zero vector

    def forward(self, x):
        h = self.tokens(x)
        h = h / h.norm(dim=-1, keepdim=True)  # NAN: divide by zero norm
        return self.head(self.mix(h))


class SharedActivation(nn.Module):
    """One ReLU module used after both hidden layers."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.out = nn.Linear(16, 32), nn.Linear(32, 32), nn.Linear(32, 2)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.out(self.act(self.fc2(self.act(self.fc1(x)))))


class Detached(nn.Module):
    """A transformer-ish model whose token embedding is detached by mistake."""

    def __init__(self, vocab=12, width=16, context=8):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(context, width)
        self.block = nn.TransformerEncoderLayer(width, 2, 32, dropout=0.0, batch_first=True)
        self.head = nn.Linear(width, vocab)

    def forward(self, x):
        h = self.tokens(x).detach() + self.positions(torch.arange(x.shape[1]))
        return self.head(self.block(h))


# -- the second half (2026-12-03): architectures written as users write them ----------------
class TemporalCNN(nn.Module):
    """Conv1d layers (optionally with BatchNorm1d) over (N, L, F) sequences, averaged over time
    into a linear head."""

    def __init__(self, features=4, channels=16, depth=3, activation=nn.ReLU, classes=2,
                 batch_norm=False):
        super().__init__()
        layers, c_in = [], features
        for _ in range(depth):
            layers.append(nn.Conv1d(c_in, channels, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm1d(channels))
            layers.append(activation())
            c_in = channels
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels, classes)

    def forward(self, x):
        return self.head(self.features(x.transpose(1, 2)).mean(-1))


class ResidualBlock(nn.Module):
    def __init__(self, width, norm=True):
        super().__init__()
        self.norm = nn.LayerNorm(width) if norm else nn.Identity()
        self.fc1, self.fc2 = nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(F.relu(self.fc1(self.norm(x))))


class ResidualMLP(nn.Module):
    """A stem, ``depth`` residual blocks (pre-norm unless ``norm=False``) in a ModuleList."""

    def __init__(self, features=16, width=32, depth=8, classes=2, norm=True):
        super().__init__()
        self.stem = nn.Linear(features, width)
        self.blocks = nn.ModuleList(ResidualBlock(width, norm) for _ in range(depth))
        self.out = nn.Linear(width, classes)

    def forward(self, x):
        h = self.stem(x)
        for block in self.blocks:
            h = block(h)
        return self.out(h)


class Bidirectional(nn.Module):
    """A bidirectional LSTM or GRU averaged over time into a head."""

    def __init__(self, kind="LSTM", features=4, hidden=16, classes=2):
        super().__init__()
        self.rnn = getattr(nn, kind)(features, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out.mean(1))


class BagOfEmbeddings(nn.Module):
    """The mean of token embeddings (in a ModuleDict with a projection), an activation, a head."""

    def __init__(self, vocab=500, width=16, classes=2, activation=nn.ReLU):
        super().__init__()
        self.parts = nn.ModuleDict({"embed": nn.Embedding(vocab, width),
                                    "proj": nn.Linear(width, 32)})
        self.act = activation()
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        return self.head(self.act(self.parts["proj"](self.parts["embed"](x).mean(1))))


class PaddedAttention(nn.Module):
    """nn.MultiheadAttention over tokens with a key padding mask (token 0 is padding), the
    unpadded positions averaged into a head."""

    def __init__(self, vocab=20, width=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.attn = nn.MultiheadAttention(width, 2, batch_first=True)
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        h = self.embed(x)
        padding = x == 0
        mixed, _ = self.attn(h, h, h, key_padding_mask=padding)
        keep = (~padding).unsqueeze(-1).float()
        return self.head((mixed * keep).sum(1) / keep.sum(1).clamp(min=1.0))


class AutoEncoder(nn.Module):
    """An MLP autoencoder with functional ReLUs; ``bias``: the encoder's initial bias."""

    def __init__(self, features=16, code=6, bias=0.0):
        super().__init__()
        self.enc, self.code = nn.Linear(features, 32), nn.Linear(32, code)
        self.dec = nn.Linear(code, features)
        with torch.no_grad():
            self.enc.bias.fill_(bias)

    def forward(self, x):
        return self.dec(F.relu(self.code(F.relu(self.enc(x)))))


class TwoHeads(nn.Module):
    """A shared trunk with a 3-class head and a regression head (two losses)."""

    def __init__(self, features=16):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(features, 32), nn.ReLU(), nn.Linear(32, 32),
                                   nn.ReLU())
        self.cls, self.reg = nn.Linear(32, 3), nn.Linear(32, 1)

    def forward(self, x):
        h = self.trunk(x)
        return self.cls(h), self.reg(h)


def two_losses(out, y):
    """Label-smoothed, class-weighted cross-entropy on the first target column, MSE on the
    second."""
    logits, value = out
    return (F.cross_entropy(logits, y[:, 0].long(), label_smoothing=0.1,
                            weight=torch.tensor([1.0, 2.0, 0.5]))
            + F.mse_loss(value, y[:, 1:]))


class SafeSqrt(torch.autograd.Function):
    """sqrt of the positive part, whose hand-written backward divides by the output."""

    @staticmethod
    def forward(ctx, x):
        y = x.clamp(min=0).sqrt()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad / (2 * y)  # NAN: custom backward (inf where y is 0)


class Swish(torch.autograd.Function):
    """x * sigmoid(x) with its backward written by hand."""

    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return grad * (s + x * s * (1 - s))


class UnitRows(torch.autograd.Function):
    """Each row scaled to unit length (a zero row stays zero), its backward written by hand."""

    @staticmethod
    def forward(ctx, x):
        norm = (x * x).sum(-1, keepdim=True).sqrt()
        y = x / norm.clamp(min=1e-12)
        ctx.save_for_backward(y, norm)
        return y

    @staticmethod
    def backward(ctx, grad):
        y, norm = ctx.saved_tensors
        along = (grad * y).sum(-1, keepdim=True)
        return (grad - y * along) / norm  # NAN: unit rows backward (a zero row's norm is 0)


class PaddedUnitEmbedding(nn.Module):
    """Sequences embedded by a bias-free linear map, each position scaled to unit length by a
    custom Function, then Conv1d layers: padded (all-zero) positions stay zero rows."""

    def __init__(self, features=4, width=16, classes=2):
        super().__init__()
        self.embed = nn.Linear(features, width, bias=False)
        self.conv = nn.Conv1d(width, width, 3, padding=1)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        h = UnitRows.apply(self.embed(x))
        return self.head(F.relu(self.conv(h.transpose(1, 2))).mean(-1))


class WhereReLU(nn.Module):
    """A ReLU written by hand, as users write one."""

    def forward(self, x):
        return torch.where(x > 0, x, 0.0)


def maximum_relu(h):
    """A ReLU written by hand with torch.maximum (a transformer layer's activation=)."""
    return torch.maximum(h, torch.zeros_like(h))


class CustomOp(nn.Module):
    """Two linear layers with a custom autograd Function between them."""

    def __init__(self, function, features=16):
        super().__init__()
        self.function = function
        self.fc1, self.fc2 = nn.Linear(features, 32), nn.Linear(32, 2)

    def forward(self, x):
        return self.fc2(self.function.apply(self.fc1(x)))


class CellLoop(nn.Module):
    """A recurrent cell (``kind``: "RNNCell", "GRUCell", "LSTMCell") looped over time by hand."""

    def __init__(self, kind="RNNCell", features=4, hidden=16):
        super().__init__()
        self.cell = getattr(nn, kind)(features, hidden)
        self.lstm = kind == "LSTMCell"
        self.head = nn.Linear(hidden, 2)

    def forward(self, x):
        h = c = torch.zeros(x.shape[0], self.cell.hidden_size)
        for t in range(x.shape[1]):
            if self.lstm:
                h, c = self.cell(x[:, t], (h, c))
            else:
                h = self.cell(x[:, t], h)
        return self.head(h)


class Stacked(nn.Module):
    """A two-layer LSTM or GRU read at its last step."""

    def __init__(self, kind="LSTM", features=4, hidden=16):
        super().__init__()
        self.rnn = getattr(nn, kind)(features, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


class Packed(nn.Module):
    """A recurrent layer fed a PackedSequence (``pack_padded_sequence``), read at each
    sequence's own last step; its input is ``(padded (N, L, F), lengths)``."""

    def __init__(self, kind="LSTM", features=4, hidden=16, classes=2):
        super().__init__()
        self.rnn = getattr(nn, kind)(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, inputs):
        x, lengths = inputs
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, state = self.rnn(packed)
        return self.head((state[0] if isinstance(state, tuple) else state)[-1])


# -- recurrent weights too large from the start (2026-12-04) ------------------------------------
def recurrent_scaled(model, gain, recurrent_only=True):
    """``model`` with the recurrent matrices (``weight_hh*``) of every recurrent layer or cell
    multiplied by ``gain``, or, ``recurrent_only=False``, every weight matrix of its recurrent
    and linear layers (an initialisation ``gain`` times too large)."""
    kinds = (nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell, nn.Linear)
    with torch.no_grad():
        for layer in model.modules():
            if not isinstance(layer, kinds):
                continue
            for name, param in layer.named_parameters(recurse=False):
                if param.ndim >= 2 and (name.startswith("weight_hh") or not recurrent_only):
                    param.mul_(gain)
    return model


class ConvRecurrent(nn.Module):
    """A Conv1d front end (with a ReLU) before a recurrent layer read at its last step."""

    def __init__(self, kind="LSTM", features=4, hidden=32):
        super().__init__()
        self.front = nn.Conv1d(features, 16, 3, padding=1)
        self.rnn = getattr(nn, kind)(16, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, x):
        h = F.relu(self.front(x.transpose(1, 2))).transpose(1, 2)
        return self.head(self.rnn(h)[0][:, -1])


class GumbelVAE(nn.Module):
    """A VAE with one categorical latent of ``classes`` values, sampled by F.gumbel_softmax at
    temperature ``tau`` (``hard``: one-hot, the soft sample's gradient: straight through)."""

    def __init__(self, tau=1.0, hard=True, features=16, classes=8):
        super().__init__()
        self.tau, self.hard = tau, hard
        self.enc, self.logits = nn.Linear(features, 32), nn.Linear(32, classes)
        self.dec1, self.dec2 = nn.Linear(classes, 32), nn.Linear(32, features)

    def forward(self, x):
        logits = self.logits(F.relu(self.enc(x)))
        z = F.gumbel_softmax(logits, tau=self.tau, hard=self.hard)
        return torch.sigmoid(self.dec2(F.relu(self.dec1(z)))), logits


def gumbel_vae_loss(out, x):
    """Bernoulli reconstruction (summed over features) plus the KL to a uniform prior."""
    recon, logits = out
    q = logits.softmax(-1)
    kl = (q * (q.clamp(min=1e-10).log() + math.log(logits.shape[-1]))).sum(-1).mean()
    return F.binary_cross_entropy(recon, x, reduction="sum") / x.shape[0] + kl


class Separable(nn.Module):
    """A depthwise-separable CNN without normalisation: a stem, then ``blocks`` of a depthwise
    convolution (``groups`` = channels, each channel its own 3-tap filter) and a pointwise
    (1x1) one, each with a ReLU; averaged over positions into a head. ``dims``: 2 for images,
    1 for sequences (N, L, F), read as (N, F, L)."""

    def __init__(self, width=32, blocks=3, dims=2, channels=1, classes=2):
        super().__init__()
        conv = nn.Conv2d if dims == 2 else nn.Conv1d
        self.dims = dims
        layers = [conv(channels, width, 3, padding=1), nn.ReLU()]
        for _ in range(blocks):
            layers += [conv(width, width, 3, padding=1, groups=width), nn.ReLU(),
                       conv(width, width, 1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        h = self.features(x if self.dims == 2 else x.transpose(1, 2))
        return self.head(h.flatten(2).mean(-1))


class ConvAutoEncoder(nn.Module):
    """8x8 crops encoded by two strided convolutions, decoded by two ConvTranspose2d."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                                 nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
        self.dec = nn.Sequential(nn.ConvTranspose2d(16, 8, 4, stride=2, padding=1), nn.ReLU(),
                                 nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1))

    def forward(self, x):
        return self.dec(self.enc(x))


class SkipUNet(nn.Module):
    """One level of a U-Net: down (a grouped conv with ``groups``), up by ConvTranspose2d,
    the skip concatenated, averaged into a head."""

    def __init__(self, groups=4):
        super().__init__()
        self.down1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
        self.down2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1, groups=groups), nn.ReLU())
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.merge = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        skip = self.down1(x)
        up = F.relu(self.up(self.down2(F.max_pool2d(skip, 2))))
        return self.head(self.merge(torch.cat([skip, up], 1)).mean((2, 3)))


class Seq2SeqGRU(nn.Module):
    """A GRU encoder whose last state starts a GRU decoder, teacher-forced (start token 0)."""

    def __init__(self, vocab=12, width=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.enc, self.dec = (nn.GRU(width, width, batch_first=True),
                              nn.GRU(width, width, batch_first=True))
        self.out = nn.Linear(width, vocab)

    def forward(self, x):
        _, state = self.enc(self.embed(x))
        shifted = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], 1)
        return self.out(self.dec(self.embed(shifted), state)[0])


class TopOneExperts(nn.Module):
    """A mixture of MLP experts whose softmax gate picks one per input, straight through
    (one-hot forward, the soft gate's gradient back); ``top1=False``: the soft mixture."""

    def __init__(self, experts=4, top1=True):
        super().__init__()
        self.top1 = top1
        self.gate = nn.Linear(16, experts)
        self.experts = nn.ModuleList(mlp([16, 32, 2]) for _ in range(experts))

    def forward(self, x):
        weights = self.gate(x).softmax(-1)
        if self.top1:
            hard = F.one_hot(weights.argmax(-1), weights.shape[-1]).float()
            weights = hard - weights.detach() + weights
        outs = torch.stack([expert(x) for expert in self.experts], 1)
        return (weights.unsqueeze(-1) * outs).sum(1)
