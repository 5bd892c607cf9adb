"""The coordinator's gRPC side: the Evaluation service the hub nodes send their monthly figures
to, over mutual TLS with the federation CA, in signed envelopes."""
