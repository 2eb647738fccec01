"""GET /v1/stream: new assessments as Server-Sent Events, resumable by feed cursor."""
