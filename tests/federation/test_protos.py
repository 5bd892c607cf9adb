"""The committed generated code is what `python -m protos.generate` makes from the sources, and
it runs on the pinned protobuf runtime."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

from protos import generate


def test_committed_generated_code_is_current(tmp_path: Path) -> None:
    fresh = generate.generate(tmp_path)
    committed = generate.generated_files(generate.ROOT)
    assert fresh, "protoc generated nothing"
    assert sorted(set(committed) - set(fresh)) == [], "generated code of no source: regenerate"
    stale = [
        name
        for name in fresh
        if not (generate.ROOT / name).exists()
        or (generate.ROOT / name).read_bytes() != (tmp_path / name).read_bytes()
    ]
    assert stale == [], f"stale generated code, run `python -m protos.generate`: {stale}"


def test_every_source_has_its_three_generated_files() -> None:
    names = set(generate.generated_files(generate.ROOT))
    for source in generate.proto_files():
        stem = source.removesuffix(".proto")
        assert {f"{stem}_pb2.py", f"{stem}_pb2.pyi", f"{stem}_pb2_grpc.py"} <= names


def test_generated_code_runs_on_the_pinned_runtime() -> None:
    from protos.mash.federation.v1 import check_pb2

    text = (generate.ROOT / "protos/mash/federation/v1/check_pb2.py").read_text()
    made_for = re.search(r"# Protobuf Python Version: (\d+)\.(\d+)\.(\d+)", text)
    assert made_for is not None
    runtime = tuple(int(part) for part in version("protobuf").split(".")[:3])
    gencode = tuple(int(part) for part in made_for.groups())
    assert runtime[0] == gencode[0] and runtime >= gencode
    assert check_pb2.CheckPayload.DESCRIPTOR.full_name == "mash.federation.v1.CheckPayload"
