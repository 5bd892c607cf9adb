"""The evaluation: the monthly figures the nodes send (stored idempotently, small counts
refused), each borough's pre-go-live baseline, the comparisons the dashboards and reports make,
and the interim and final evaluation reports."""
