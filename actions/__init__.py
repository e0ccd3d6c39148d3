"""Custom actions for the Evenkeel assistant (run by `rasa run actions --actions actions`).

Actions hold conversation logic only. Everything that touches accounts or money goes to the payments
service over HTTP through `clients.payments` (the one client of the payments service).
"""
