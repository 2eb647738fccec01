# escalation-risk: the service with its bundled model; migrations are applied at start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    ESCALATION_DATA_DIR=/var/lib/escalation

RUN useradd --create-home --uid 10001 escalation \
 && mkdir -p /var/lib/escalation && chown escalation /var/lib/escalation

WORKDIR /srv/escalation
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY models ./models
RUN pip install --no-cache-dir -e . && chown -R root:root /srv/escalation

USER escalation
EXPOSE 8000
# Bound to all interfaces the server refuses to start without an API key: pass
# ESCALATION_BOOTSTRAP_API_KEY (a secret, from your orchestrator) or create keys with `escalation keys create`.
CMD ["sh", "-c", "escalation migrate && exec escalation serve --host 0.0.0.0 --port 8000"]
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready')"
