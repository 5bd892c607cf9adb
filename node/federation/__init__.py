"""The node's federation with other boroughs: existence checks and disclosures."""
