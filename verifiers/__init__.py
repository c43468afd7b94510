"""Independent probes of real behaviour: each returns securemode.results.Result."""
