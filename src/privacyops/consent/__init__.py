"""Consent and preferences: the ledger, decisions for the retailer's systems, unsubscribe,
SMS replies, the cookie banner, Global Privacy Control and IAB GPP."""
