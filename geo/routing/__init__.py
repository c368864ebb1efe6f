"""Road routing: vehicle profiles, compiled road graphs, ETA tables, routes and isochrones.

Entry points: :class:`geo.routing.store.RoadNetworks` (load indexes),
:func:`geo.routing.store.build_networks` (compile a roads file) and
:class:`geo.routing.index.RoutingIndex` (queries: the facade over the plain graph data of
:mod:`geo.routing.graph` and the algorithms that take it as input). Nothing heavy is imported here.
"""
