"""HTTP clients of our own services for the rasa environment (the action server and the
rasa server's connectors): one client per service, so each contract has one spelling."""
