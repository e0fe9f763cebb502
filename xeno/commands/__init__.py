"""Click commands behind `xeno`; each module is one family of commands."""
