"""The London rollout plan: the 33 local authorities, the waves, each borough's stage,
milestones, progression-framework level, partner agencies, agreements and costs, every change
kept as history."""
