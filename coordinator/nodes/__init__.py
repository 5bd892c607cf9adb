"""The federation's nodes as the coordinator knows them: enrolment tokens, enrolment, the signed
directory, revocation, heartbeats and the audit witness."""
