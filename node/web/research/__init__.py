"""An agency professional's research pages: their agency's tasks, records, contributions and releases."""
