"""The Directory service: the signed directory, for any node the coordinator knows (over mutual
TLS, with the certificate it was issued; a revoked node too, so that it learns it was revoked
and ends its disclosures)."""

from __future__ import annotations

import datetime as dt

import grpc

from coordinator.nodes.directory import signed_directory
from coordinator.nodes.known import require_known_caller
from coordinator.runtime import Coordinator
from coordinator.store.models import utcnow
from mash_common.pki import borough_of_peer
from protos.mash.coordinator.v1 import directory_pb2, directory_pb2_grpc

DIRECTORY_SERVICE = directory_pb2.DESCRIPTOR.services_by_name["Directory"]


class DirectoryServicer(directory_pb2_grpc.DirectoryServicer):
    def __init__(self, coordinator: Coordinator) -> None:
        self._coordinator = coordinator

    def GetDirectory(
        self, request: directory_pb2.GetDirectoryRequest, context: grpc.ServicerContext
    ) -> directory_pb2.SignedDirectory:
        coordinator = self._coordinator
        borough = borough_of_peer(context)
        presented = context.auth_context().get("x509_pem_cert") or [b""]
        with coordinator.reading() as session:
            require_known_caller(
                session, coordinator.config, borough, presented[0], revoked_too=True
            )
            return signed_directory(
                session,
                coordinator.keys,
                now=utcnow(),
                valid_for=dt.timedelta(seconds=coordinator.config.directory.valid_seconds),
            )
