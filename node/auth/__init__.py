"""Signing in to the hub: passwords, the TOTP second factor, throttling and server-side sessions."""
