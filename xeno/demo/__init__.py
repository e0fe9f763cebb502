"""The embedded demo: `xeno demo`, its sample data, and `xeno generate`."""
