"""The reference host: the standalone console that `make serve` runs.

It embeds the `realms` and `scim` apps exactly as any Django admin would (docs/embedding.md): its own settings, user
model, login, home page and error pages. It is not part of the wheel.
"""
