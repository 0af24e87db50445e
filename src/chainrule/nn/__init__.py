"""Neural-network building blocks with PyTorch's names: ``Module``, layers, losses, ``init``,
``functional`` and ``utils``."""

from . import functional, init, parallel, utils
from .modules.activation import *
from .modules.attention import *
from .modules.batchnorm import *
from .modules.container import *
from .modules.conv import *
from .modules.dropout import *
from .modules.flatten import *
from .modules.linear import *
from .modules.loss import *
from .modules.module import Module
from .modules.normalization import *
from .modules.pooling import *
from .modules.rnn import *
from .modules.sparse import *
from .modules.transformer import *
from .parallel import DataParallel
from .parameter import Buffer, Parameter
