"""The domain: the shapes the API accepts and answers (schemas) and who is asking (actor).

Rules about a todo or a list live here once; the HTTP edge and the data layer use them.
"""
