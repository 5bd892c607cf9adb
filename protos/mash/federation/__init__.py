"""Wire types of the federation between borough nodes and the coordinator."""
