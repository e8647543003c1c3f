"""Data subjects and their identities (email, phone, loyalty id, device id), kept in the vault."""
