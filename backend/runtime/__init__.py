"""The runtime: settings, the `todoapp` command, migrations, the embedded PostgreSQL and the
HTTP server that runs the app."""
