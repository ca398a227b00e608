"""The admin screens of pledges: ministry staff enter pledges, caveats and tranches (national.py), the
secretariat sets requirements (requirements.py), administrators keep the reference data (reference.py).

Who sees and changes what is decided by role in pledges.visibility, never by Django's per-model permission
table; every write goes through pledges.services, shown back as form errors when refused
(utilities.service_admin).
"""

from pledges.admin import national, reference, requirements

__all__ = ["national", "reference", "requirements"]
