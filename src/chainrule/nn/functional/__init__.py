"""``chainrule.nn.functional``: the functional form of every layer, loss and activation."""

from .activation import *
from .activation_piecewise import *
from .attention import *
from .conv import *
from .dropout import *
from .linear import *
from .loss import *
from .normalization import *
from .pooling import *
from .sparse import *
from ...ops.shape import pad
