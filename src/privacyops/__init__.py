"""privacyops: makes a company's privacy policy true inside its systems."""

__version__ = "0.1.0"
