"""The HTTP edge: what every request passes through, whatever resource it names.

problem+json errors, JSON encoding, request ids, backpressure, metrics, security headers,
health probes and the single-page app's files. Nothing here knows what a todo is.
"""
