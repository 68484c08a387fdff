"""Tools that talk to a todoapp server from outside (not part of the server): the load test
behind `todoapp loadtest`."""
