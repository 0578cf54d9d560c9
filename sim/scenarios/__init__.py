"""Built-in scenarios (TOML) and the builder of the leshan-mayday city."""
