"""Encryption at rest: the key ring, per-subject data keys, blind indexes, crypto-shredding."""
