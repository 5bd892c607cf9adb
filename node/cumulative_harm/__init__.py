"""Cumulative harm: the hub's rules for risks no single agency's contact would show alone, and
the flags they raise on the MASH manager's queue (advice, never a decision)."""
