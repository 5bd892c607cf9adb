"""A federation on one machine: a CA, one node directory per borough with its certificate made
from the node's own request, and peers files naming each other. The tests build theirs with
this; with `through_coordinator` it makes the nodes only (keys and config, no certificate, no
peers file), to enrol through the coordinator as a real federation does (the demo).

Running it again keeps what is there (the CA, each node's keys, store and certificate) and
writes the configuration and peers files again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mash_common import ca
from mash_common.pki import make_csr
from mash_common.tls import CA_FILE, CERT_FILE, KEY_FILE
from node.config import render_config
from node.federation.peers import Peer, render_peers
from node.keys import ensure_keys, load_keys

PEERS_FILE = "peers.toml"


@dataclass(frozen=True)
class LocalNode:
    """One borough's node of a local federation: where it lives and listens."""

    borough: str
    name: str
    directory: Path
    web_port: int
    federation_port: int
    host: str = "127.0.0.1"

    @property
    def config_path(self) -> Path:
        return self.directory / "node.toml"

    @property
    def federation_address(self) -> str:
        return f"{self.host}:{self.federation_port}"


def make_local_federation(
    root: Path,
    boroughs: Sequence[tuple[str, str]],
    *,
    agencies: Sequence[str],
    web_ports: Sequence[int],
    federation_ports: Sequence[int],
    extra_config: str = "",
    through_coordinator: bool = False,
) -> list[LocalNode]:
    """Set up (or keep) a CA in `root/ca` and one node per (code, name) in `root/<code>`, each
    certified by that CA and naming the others as peers. The nodes' stores are not initialised
    here: run `Node.initialise` (or `mash-node init`) on each. With `through_coordinator` the
    nodes get no certificate and no peers file: `mash-node enrol` gives them both."""
    root.mkdir(parents=True, exist_ok=True)
    ca_dir = root / "ca"
    ca.init_ca(ca_dir)
    nodes = [
        LocalNode(code, name, root / code, web, grpc)
        for (code, name), web, grpc in zip(boroughs, web_ports, federation_ports, strict=True)
    ]
    for node in nodes:
        node.directory.mkdir(parents=True, exist_ok=True)
        text = render_config(node.borough, node.name, list(agencies))
        text += (
            f'\n[web]\nhost = "{node.host}"\nport = {node.web_port}\nsecure_cookies = false\n'
            f'\n[federation]\nhost = "{node.host}"\nport = {node.federation_port}\n'
            + ("" if through_coordinator else f'peers_file = "{PEERS_FILE}"\n')
            + f'hub_contact = "{node.name} MASH, mash@{node.borough}.example.org"\n{extra_config}'
        )
        node.config_path.write_text(text, encoding="utf-8")
        keys_dir = node.directory / "data" / "keys"
        ensure_keys(keys_dir)
        if through_coordinator:
            continue
        if not (keys_dir / CERT_FILE).exists():
            request = make_csr(node.borough, keys_dir / KEY_FILE)  # the key stays with the node
            (keys_dir / CERT_FILE).write_bytes(ca.issue(ca_dir, node.borough, request))
        (keys_dir / CA_FILE).write_bytes(ca.ca_certificate(ca_dir))
    if through_coordinator:
        return nodes
    keys = {node.borough: load_keys(node.directory / "data" / "keys") for node in nodes}
    for node in nodes:
        peers = [
            Peer(
                other.borough,
                other.name,
                other.federation_address,
                bytes(keys[other.borough].verify_key),
                keys[other.borough].box_public_key,
            )
            for other in nodes
            if other.borough != node.borough
        ]
        (node.directory / PEERS_FILE).write_text(render_peers(peers), encoding="utf-8")
    return nodes
