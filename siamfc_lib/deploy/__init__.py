"""The trained tracker outside PyTorch: ONNX export of the two branches, and runners (ONNX Runtime,
Ascend OM through ais_bench) that stand in for the backbone while the tracker stays the same code."""
