"""The pilot coordinator of London's MASH federation, for the central project team: the rollout
plan (boroughs, waves, stages, milestones, agreements, costs), the evaluation figures the hub
nodes send, their baselines, the dashboards and the interim and final evaluation reports. It holds
no data about children or adults, by construction: only boroughs, plans, milestones, agreements,
costs, aggregate monthly figures and its own staff users."""
