"""Version 1 of the federation's wire types: `.proto` sources and the Python protoc generates
from them (`python -m protos.generate`; never edit a `*_pb2*.py` or `*_pb2.pyi` by hand)."""
