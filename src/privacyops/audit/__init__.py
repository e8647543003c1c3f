"""The tamper-evident audit log: who did what to which data, when, from where."""
