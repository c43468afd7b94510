"""The lab's public-key infrastructure: a two-tier CA that issues every certificate the lab uses."""
