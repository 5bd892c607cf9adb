"""The MASH federation's wire types, one folder per area and version (`mash/<area>/v1`)."""
