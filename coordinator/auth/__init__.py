"""Signing in to the coordinator: password, TOTP second factor, throttling and server-side
sessions, with mash_common.auth's primitives and the coordinator's own store."""
