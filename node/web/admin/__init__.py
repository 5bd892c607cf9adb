"""Users and agencies, as node administrators and auditors see them (read only: changes are made with `mash-node`)."""
