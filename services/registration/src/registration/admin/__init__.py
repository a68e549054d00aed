"""The organisers' HTTP API: participants, exports, statistics, cancellations and LGPD requests."""
