"""Pure dialogue logic: no I/O, no clock, no randomness — inputs in, decisions out."""
