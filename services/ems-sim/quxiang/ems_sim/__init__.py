"""The ems-sim service: a stand-in for the employment management system (就业管理系统), an external
system of record. Owns (in its own database): per graduate the destination, archive and hukou records
as mirrored from the platform or edited by the system's own users, and the idempotency keys of writes.
"""
