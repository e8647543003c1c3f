"""Retention: how long personal data is kept, and legal holds that keep it longer."""
