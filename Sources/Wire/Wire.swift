// Placeholder: filled in by the issue that owns the Wire module.
