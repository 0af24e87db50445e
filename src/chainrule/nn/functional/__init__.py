"""``chainrule.nn.functional``: the functional form of every layer, loss and activation."""

from .activation import *
from .activation_piecewise import *
from .attention import *
from .conv import *
from .distance import *
from .dropout import *
from .embedding_bag import *
from .interpolate import *
from .linear import *
from .loss import *
from .loss_likelihood import *
from .loss_margin import *
from .normalization import *
from .pooling import *
from .sampling import *
from .sparse import *
from .vision import *
from ...ops.shape import pad
