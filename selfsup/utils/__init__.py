"""Small shared helpers: debugging, I/O, registries, optional imports."""
