"""Draft events from a news report: rules over the project's vocabularies, no model, nothing stored."""
