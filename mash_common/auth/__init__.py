"""Sign-in primitives the node and the coordinator share, without store models: argon2id
passwords (`passwords`), the TOTP second factor (`totp`), session tokens (`tokens`) and the
throttling rule for failed attempts (`throttle`). Each service keeps its own users, sessions and
attempts in its own store and calls these."""
