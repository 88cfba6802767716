"""Files in and out: data readers, ``scan``, model files, ONNX export."""
