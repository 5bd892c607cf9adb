"""Regenerate the Python of every `.proto` under protos/mash: `python -m protos.generate`.

protoc (grpcio-tools, pinned to grpcio's version) runs with the repository root as its one include path, so
each file is named by its import path ("protos/mash/federation/v1/envelope.proto") and the code
it generates imports its neighbours as `from protos.mash.federation.v1 import envelope_pb2`,
without rewriting. It writes `*_pb2.py`, `*_pb2.pyi` and `*_pb2_grpc.py` beside each source.
tests/federation/test_protos.py regenerates into a temporary directory and fails if the
committed code differs.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "protos" / "mash"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


class GenerationFailed(Exception):
    """protoc refused the sources; its messages went to stderr."""


def proto_files() -> list[str]:
    """The `.proto` sources, as paths relative to the repository root, in a stable order."""
    return sorted(path.relative_to(ROOT).as_posix() for path in SOURCES.rglob("*.proto"))


def generated_files(root: Path) -> list[str]:
    """The generated files under `root`/protos/mash, relative to `root`, in a stable order."""
    found = (root / "protos" / "mash").rglob("*_pb2*")
    return sorted(
        path.relative_to(root).as_posix()
        for path in found
        if path.name.endswith(GENERATED_SUFFIXES)
    )


def generate(out_dir: Path = ROOT) -> list[str]:
    """Run protoc over every source, writing under `out_dir` (the repository root by default:
    the committed code). Returns the generated files, relative to `out_dir`."""
    well_known = str(files("grpc_tools") / "_proto")  # google/protobuf/*.proto, if imported
    args = [
        "grpc_tools.protoc",
        f"-I{ROOT}",  # sources are named from the root: "protos/mash/federation/v1/x.proto"
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(ROOT / name) for name in proto_files()),
    ]
    status = protoc.main(args)
    if status != 0:
        raise GenerationFailed(f"protoc exited with status {status}")
    return generated_files(out_dir)


def main() -> int:
    stale = set(generated_files(ROOT))
    try:
        written = generate()
    except GenerationFailed as exc:
        print(f"protos.generate: {exc}", file=sys.stderr)
        return 1
    for name in sorted(stale - set(written)):  # code of a source that no longer exists
        (ROOT / name).unlink()
        print(f"removed {name}")
    for name in written:
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
