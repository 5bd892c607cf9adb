"""Borough hub node: agencies' data held in the borough, linked into subjects, every access audited."""
