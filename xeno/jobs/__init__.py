"""Background work: stream consumers and jobs, run by `xeno worker` (in-process when embedded)."""
