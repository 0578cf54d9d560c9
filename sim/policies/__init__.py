"""Built-in deployment policies, one TOML file each."""
