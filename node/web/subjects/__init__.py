"""Reviewing candidate links between subjects: confirm (merge), reject, and undo a merge."""
