# escalation-risk: the service with its bundled model; migrations are applied at start.
# Two stages: dependencies are installed into a virtualenv in the first, and only that virtualenv
# and the service's own files reach the second (no pip cache, build tools, package tests, pip, or
# pycountry's translations: the service looks codes up, it never shows country names in 30 languages).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /srv/escalation
RUN python -m venv /opt/venv
# Dependencies first (from pyproject.toml alone), so editing the service does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir app && touch app/__init__.py \
 && /opt/venv/bin/pip install --quiet . && /opt/venv/bin/pip uninstall --quiet -y escalation-risk \
 && rm -rf app build *.egg-info
COPY app ./app
# Editable: the service finds migrations/ and models/ beside app/, as in a checkout.
RUN /opt/venv/bin/pip install --quiet --no-deps -e . \
 && /opt/venv/bin/pip uninstall --quiet -y pip setuptools wheel \
 && find /opt/venv -depth \( -name tests -o -name test \) -type d -path '*/site-packages/*' -exec rm -rf {} + \
 && rm -rf /opt/venv/lib/python3.11/site-packages/pycountry/locales \
 && python -m compileall -q /srv/escalation/app

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    ESCALATION_DATA_DIR=/var/lib/escalation ESCALATION_HOST=0.0.0.0 ESCALATION_PORT=8000
RUN useradd --create-home --uid 10001 escalation \
 && mkdir -p /var/lib/escalation && chown escalation /var/lib/escalation
WORKDIR /srv/escalation
COPY --from=build /opt/venv /opt/venv
COPY --from=build /srv/escalation /srv/escalation
COPY migrations ./migrations
COPY models ./models

USER escalation
EXPOSE 8000
# Bound to all interfaces the server refuses to start without an API key: pass
# ESCALATION_BOOTSTRAP_API_KEY (a secret, from your orchestrator) or create keys with `escalation keys create`.
CMD ["sh", "-c", "escalation migrate && exec escalation serve"]
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ['ESCALATION_PORT'], timeout=2)"]
