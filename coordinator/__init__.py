"""The pilot coordinator: rollout tracking, federation directory and evaluation figures."""
