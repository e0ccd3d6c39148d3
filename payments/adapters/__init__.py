"""Adapters: the database (ORM + repositories) and vendors (Stripe, Twilio)."""
