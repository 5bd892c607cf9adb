"""Identity normalisation and match-key derivation: turning agency records into comparable keys."""
