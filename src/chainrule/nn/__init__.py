"""Neural-network building blocks with PyTorch's names: ``Module``, layers, losses, ``init``,
``functional`` and ``utils``."""

from . import attention, functional, grad, init, parallel, utils
from .modules.activation import *
from .modules.adaptive import *
from .modules.attention import *
from .modules.batchnorm import *
from .modules.channelshuffle import *
from .modules.container import *
from .modules.conv import *
from .modules.distance import *
from .modules.dropout import *
from .modules.fold import *
from .modules.instancenorm import *
from .modules.lazy import LazyModuleMixin
from .modules.flatten import *
from .modules.linear import *
from .modules.loss import *
from .modules.module import Module
from .modules.normalization import *
from .modules.padding import *
from .modules.pixelshuffle import *
from .modules.pooling import *
from .modules.rnn import *
from .modules.sparse import *
from .modules.transformer import *
from .modules.upsampling import *
from .parallel import DataParallel
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

functional.grad = grad  # torch.nn.functional.grad is torch.nn.grad
