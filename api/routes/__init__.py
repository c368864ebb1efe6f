"""HTTP routers, one module per domain (see ``api.app.ROUTE_MODULES``)."""
