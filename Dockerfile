# The web app's browser assets (htmx, Swagger UI) from npm, pinned by package-lock.json.
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# One image for every Accord process; the command picks the role:
#   API (default): uvicorn services.api.main:app --host 0.0.0.0 --port 8000
#   worker:        python -m services.workers
#   migrations:    accord migrate
# docker-compose.yml runs all three from this image.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 accord \
 && useradd --system --uid 10001 --gid accord --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin accord

# Dependencies first, from pyproject.toml alone, so that editing the code does not
# reinstall them. (The embedded Temporal server is in the dev extra, not installed here.)
COPY pyproject.toml /tmp/src/
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/src/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The project itself, a regular (non-editable) install into site-packages. It is built
# outside /app. Otherwise `python -m` and uvicorn, which put the working directory first
# on sys.path, would import the copied source instead of the installed package.
COPY services/ /tmp/src/services/
COPY workflows/ /tmp/src/workflows/
RUN pip install --no-deps /tmp/src && rm -rf /tmp/src

WORKDIR /app
COPY alembic.ini ./
COPY migrations/ ./migrations/
COPY config/ ./config/
COPY --from=assets /assets/node_modules/ ./node_modules/

# alembic.ini, migrations/, config/ and the web assets are found through ACCORD_ROOT.
ENV ACCORD_ROOT=/app

USER 10001:10001
EXPOSE 8000

# No HEALTHCHECK here, because the worker shares this image and serves no HTTP.
# docker-compose.yml gives the API service its own check on /healthz.
CMD ["uvicorn", "services.api.main:app", "--host", "0.0.0.0", "--port", "8000"]
