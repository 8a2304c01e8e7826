"""The Flask API, the event consumers and CLI commands: thin translations into service/."""
