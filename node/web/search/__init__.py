"""Searching the hub's subjects and viewing one: your agency's records in full, others' as counts."""
