"""Reports on rights requests, such as the CCPA metrics of 11 CCR 7102."""
