// Placeholder: filled in by the issue that owns the Hardware module.
