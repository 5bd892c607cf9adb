"""Agency data import: reading extracts and writing them to the store."""
