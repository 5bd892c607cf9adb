"""The audit log's state and a verification of the whole log, for node administrators and auditors."""
