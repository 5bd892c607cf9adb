"""What the node and the coordinator both need for the federation's transport: the X.509 profile
and CA (`pki`, `ca`), signed envelopes with replay protection (`envelope`, `nonces`), and the
gRPC plumbing (`tls`, `server`, `client`, `interceptors`, `status`). Neither `node` nor
`coordinator` is imported here."""
