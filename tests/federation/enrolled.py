"""A federation of real nodes that enrolled through a real coordinator process: no peers file,
each node's certificate from `mash-node enrol` and its peers from the coordinator's directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from node.agencies import sync_agencies
from node.config import render_config
from node.federation.local import LocalNode
from node.runtime import Node
from tests.coordinator.processes import RunningCoordinator, coordinator_cli, free_port, node_cli
from tests.federation.nodes import AGENCIES


def enrolled_nodes(
    root: Path,
    coordinator_dir: Path,
    running: RunningCoordinator,
    boroughs: Sequence[tuple[str, str]],
    *,
    extra_config: str = "",
) -> list[LocalNode]:
    """Initialise one node per (code, name) in `root/<code>` and enrol each with a token."""
    nodes = []
    for code, name in boroughs:
        local = LocalNode(code, name, root / code, free_port(), free_port())
        local.directory.mkdir(parents=True)
        local.config_path.write_text(
            render_config(code, name, list(AGENCIES))
            + f'\n[web]\nhost = "127.0.0.1"\nport = {local.web_port}\nsecure_cookies = false\n'
            + f'\n[federation]\nhost = "127.0.0.1"\nport = {local.federation_port}\n'
            + f'hub_contact = "{name} MASH, mash@{code}.example.org"\n'
            + "refresh_seconds = 2\n"
            + extra_config,
            encoding="utf-8",
        )
        with Node.initialise(local.config_path) as node, node.unit_of_work() as session:
            sync_agencies(session, node.config.agencies)
        token = coordinator_cli(coordinator_dir, "enrol-token", "--borough", code)
        assert token.returncode == 0, token.stderr
        enrolled = node_cli(
            local.config_path,
            "enrol",
            "--coordinator",
            f"127.0.0.1:{running.enrol_port}",
            "--token",
            token.stdout.strip(),
        )
        assert enrolled.returncode == 0, enrolled.stderr
        nodes.append(local)
    return nodes
