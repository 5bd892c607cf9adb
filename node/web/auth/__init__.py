"""Signing in (password, then a TOTP second factor set up at first sign-in) and signing out."""
