"""The MASH front door: contacts, triage, research, release decisions and outcomes."""
