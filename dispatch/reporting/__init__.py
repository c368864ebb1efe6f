"""Reports officials file: the monthly SLA/SPM report and incident register (XLSX, PDF, CSV),
and public warnings as CAP 1.2. The renderers are pure: a :class:`~dispatch.reporting.model.
MonthlyReport` in, bytes out."""
