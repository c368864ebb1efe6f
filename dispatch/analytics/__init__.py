"""Planner analytics: significant hotspots (Getis-Ord Gi*), emerging hotspots over time, and
location-allocation of posts (LSCP, MCLP). Pure code over arrays: no database, no HTTP.

``hotspot``   Gi* with conditional permutation inference and FDR on polygons or a grid
``emerging``  space-time bins, Mann-Kendall trends and the emerging hot spot categories
``siting``    LSCP / MCLP as mixed-integer programmes (HiGHS), what-if coverage

The SQL aggregation (filters, hour-of-week and monthly series, space-time cubes) lives in
``dispatch.analytics_service``.
"""
