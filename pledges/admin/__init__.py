"""The admin screens of pledges: ministry staff enter pledges (pledges.py, their caveats and tranches inline),
caveats on their own (caveats.py) and see every tranche (deliveries.py), sharing who may change what
(national.py); the secretariat sets requirements (requirements.py) and names and decides conditions
(conditions.py); administrators keep the reference data (reference.py).

Who sees and changes what is decided by role in pledges.visibility, never by Django's per-model permission
table; every write goes through pledges.services, shown back as form errors when refused
(utilities.service_admin).
"""

from pledges.admin import caveats, conditions, deliveries, national, pledges, reference, requirements

__all__ = ["caveats", "conditions", "deliveries", "national", "pledges", "reference", "requirements"]
