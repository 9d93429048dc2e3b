"""tszoo: pretrained time-series classification models (TimeNet, ConvTimeNet) for Keras 3.

    import tszoo
    tszoo.list_models()
    model = tszoo.load("convtimenet")                  # embedding model
    clf = tszoo.load("convtimenet", num_classes=3)     # plus a new softmax head, ready to fine-tune

Input convention everywhere: float32 ``(batch, time, 1)`` (or ``(n, time)`` for estimators and readers), a
shorter series padded with NaN at its end. A real 0.0 is data.
"""

__version__ = "0.1.0"

from tszoo.estimators import (  # noqa: E402
    ConvTimeNetClassifier,
    ConvTimeNetMiniRocketClassifier,
    TimeNetClassifier,
    TimeNetEmbedder,
)
from tszoo.export import export  # noqa: E402
from tszoo.registry import IntegrityError, info, list_models, load, versions  # noqa: E402
from tszoo.validation import check_series, to_model_input  # noqa: E402

__all__ = ["ConvTimeNetClassifier", "ConvTimeNetMiniRocketClassifier", "IntegrityError", "TimeNetClassifier",
           "TimeNetEmbedder", "check_series", "export", "info", "list_models", "load", "to_model_input", "versions",
           "__version__"]
