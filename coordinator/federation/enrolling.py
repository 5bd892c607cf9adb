"""The Enrolment service: a thin adapter over coordinator/nodes/enrolment.py, served on the
enrolment port (no TLS client certificate yet: the one-time token authenticates both ways)."""

from __future__ import annotations

import logging

import grpc

from coordinator.nodes.enrolment import enrol
from coordinator.runtime import Coordinator
from coordinator.store.models import utcnow
from protos.mash.coordinator.v1 import directory_pb2, directory_pb2_grpc

ENROLMENT_SERVICE = directory_pb2.DESCRIPTOR.services_by_name["Enrolment"]
log = logging.getLogger(__name__)


class EnrolmentServicer(directory_pb2_grpc.EnrolmentServicer):
    def __init__(self, coordinator: Coordinator, coordinator_address: str) -> None:
        self._coordinator = coordinator
        self._address = coordinator_address

    def Enrol(
        self, request: directory_pb2.EnrolRequest, context: grpc.ServicerContext
    ) -> directory_pb2.EnrolResponse:
        coordinator = self._coordinator
        with coordinator.unit_of_work() as session:
            enrolled = enrol(
                session,
                coordinator.keys,
                coordinator.config.grpc.ca_dir,
                request,
                coordinator_address=self._address,
                now=utcnow(),
            )
        log.info(
            "enrolled %s's node (directory version %d)",
            enrolled.borough,
            enrolled.directory_version,
        )
        return enrolled.response
