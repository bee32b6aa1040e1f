"""Every text the bot says, nl and en: the catalog and its editable content files (one TOML per language)."""
