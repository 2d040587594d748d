// Placeholder: filled in by the issue that owns the Sensors module.
