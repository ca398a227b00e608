"""The ground floor every app builds on, named for what it holds (as NetBox keeps `utilities/`): versioning and the
history context of writes, the API's and the admin's shared machinery, text and spreadsheet rules, mail, the cache
and the guards every request passes. It imports no domain app; roles are `accounts.roles`."""
