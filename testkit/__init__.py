"""Test support in one place: stand-ins for Stripe and Twilio, fakes of our services, and the
launcher of a whole local stack. Used by tests, benchmarks and the simulators; never by the
processes a user runs (payments, rasa, actions)."""
