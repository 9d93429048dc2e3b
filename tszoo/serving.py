"""TF Serving's contract, checked without a server: requests and responses as TF Serving builds and reads them.

TF Serving cannot run on every machine (it needs Docker or its own binary). These functions do what it does with
a model: load the SavedModel by tag ``serve``, pick the signature by name, feed it the named inputs of a
``PredictRequest`` (tensorflow-serving-api's protos) or of a REST body ``{"instances": ...}``, and answer with a
``PredictResponse`` or ``{"predictions": ...}``. A test that passes here passes against the real server's
request format.
"""

from __future__ import annotations

import json

import numpy as np

from tszoo.export import INPUT_NAME


def predict_request(series, model_name: str, version: int | None = None, signature: str = "serving_default"):
    """A ``PredictRequest`` for float32 ``[batch, time, 1]`` NaN-padded series."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = int(version)
    request.inputs[INPUT_NAME].CopyFrom(tf.make_tensor_proto(np.asarray(series, np.float32)))
    return request


class LocalServable:
    """A SavedModel loaded the way TF Serving loads it (tag ``serve``), answering predict calls."""

    def __init__(self, path):
        import tensorflow as tf

        self.model = tf.saved_model.load(str(path), tags=["serve"])
        self.signatures = dict(self.model.signatures)

    def _signature(self, name):
        if name not in self.signatures:
            raise ValueError(f"signature {name!r} not found; the model has {sorted(self.signatures)}")
        return self.signatures[name]

    def predict(self, request):
        """``PredictRequest`` -> ``PredictResponse``, as TF Serving's gRPC Predict."""
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        fn = self._signature(request.model_spec.signature_name or "serving_default")
        expected = set(fn.structured_input_signature[1])
        given = set(request.inputs)
        if given != expected:
            raise ValueError(f"request inputs {sorted(given)} do not match the signature's {sorted(expected)}")
        outputs = fn(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        for key, value in outputs.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
        return response

    def rest_predict(self, body: str, signature: str = "serving_default") -> str:
        """TF Serving's REST predict: ``{"instances": [...]}`` (row format) -> ``{"predictions": [...]}``.

        NaN padding travels as JSON ``NaN``, which TF Serving's REST parser accepts.
        """
        import tensorflow as tf

        request = json.loads(body)
        if "instances" not in request:
            raise ValueError('a REST predict body needs "instances" (row format)')
        fn = self._signature(request.get("signature_name", signature))
        instances = request["instances"]
        if instances and isinstance(instances[0], dict):
            series = np.array([row[INPUT_NAME] for row in instances], np.float32)
        else:
            series = np.array(instances, np.float32)
        outputs = {k: v.numpy() for k, v in fn(**{INPUT_NAME: tf.constant(series)}).items()}
        if len(outputs) == 1:
            predictions = next(iter(outputs.values())).tolist()
        else:
            predictions = [{k: v[i].tolist() for k, v in outputs.items()} for i in range(len(series))]
        return json.dumps({"predictions": predictions})


def response_array(response, output: str) -> np.ndarray:
    import tensorflow as tf

    return tf.make_ndarray(response.outputs[output])
