"""The architectures of the zoo, as Keras functional builders: ``build_timenet``, ``build_convtimenet``.

A published model is one of these with trained weights; call a builder for the same architecture with fresh
weights (to train it yourself, or as the from-scratch baseline):

    from tszoo.architectures import build_convtimenet
    body = build_convtimenet()                       # random weights, the published defaults
    autoencoder, encoder = build_timenet()

Each model card names its ``architecture`` (a key of :data:`ARCHITECTURES`) and the builder's arguments, so
``ARCHITECTURES[card["architecture"]](**card["builder"]["arguments"])`` rebuilds a published model's graph.
Written against ``keras.ops`` only, so the builders run under TensorFlow and JAX.
"""

from tszoo.architectures.convtimenet import build_convtimenet, build_multihead, head_offsets, multihead_loss
from tszoo.architectures.timenet import POOLINGS, build_timenet, reconstruction_loss, timenet_features

ARCHITECTURES = {"timenet": build_timenet, "convtimenet": build_convtimenet}

__all__ = ["ARCHITECTURES", "POOLINGS", "build_convtimenet", "build_multihead", "build_timenet",
           "head_offsets", "multihead_loss", "reconstruction_loss", "timenet_features"]
