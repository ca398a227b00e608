"""The ground floor every app builds on, named for what it holds (as NetBox keeps `utilities/`): versioning and the
history context of writes, the API's and the admin's shared machinery, text and spreadsheet rules, mail, the cache,
languages and the guards every request passes. It imports no app of the project but `idempotency` (the stored
answers of keyed writes); roles are `accounts.roles`, one floor up."""
