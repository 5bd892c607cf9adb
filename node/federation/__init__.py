"""The node's federation with other boroughs."""
