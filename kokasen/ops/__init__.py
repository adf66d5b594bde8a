"""Operations: the monitor's /healthz and /readyz, and the operator's scan_file command
(docs/operations.md "Monitoring", docs/decisions/0028-health-and-antivirus.md)."""
