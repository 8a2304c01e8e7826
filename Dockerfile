# One image for every Quxiang service (the last stage, built by default); the command picks the process:
#   API:        gunicorn -c deploy/gunicorn.conf.py 'quxiang.common.wsgi:app_for("signing")'
#   worker:     python deploy/docker/qx_worker.py signing relay consumer jobs
#   migrations: python -m quxiang.common.suite --migrate-only
#   operators:  qx-dlq, qx-sync, qx-records, qx-accounts, qx-stats (docs/operations.md)

# The gateway for Kubernetes (`docker build --target gateway -t quxiang-gateway .`): nginx with
# deploy/nginx/gateway.conf.template (rendered from QX_* variables at start by the image's envsubst
# step) and the console's static files. compose.yaml mounts the same two into the stock image instead.
FROM nginx:1.27-alpine AS gateway
RUN rm -f /etc/nginx/conf.d/default.conf
COPY deploy/nginx/gateway.conf.template /etc/nginx/templates/gateway.conf.template
COPY console/ /srv/console/
ENV NGINX_ENVSUBST_FILTER=^QX_ \
    QX_GATEWAY_LISTEN=8080 \
    QX_CONSOLE_ROOT=/srv/console
EXPOSE 8080

# The services.
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QX_DATA_DIR=/var/lib/quxiang \
    PROMETHEUS_MULTIPROC_DIR=/tmp/qx-metrics \
    QX_HTTP_HOST=0.0.0.0

# The CJK font the agreement PDFs embed (QX_PDF_FONT's default path).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The packages' dependencies first, pinned by the lock (as constraints: only what the services
# need at run time is installed, not the test and lint tools the lock also pins), so this layer is
# rebuilt only when the lock or a pyproject changes.
COPY requirements.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/accounts/pyproject.toml services/accounts/
COPY services/records/pyproject.toml services/records/
COPY services/signing/pyproject.toml services/signing/
COPY services/stats/pyproject.toml services/stats/
COPY services/sync-gateway/pyproject.toml services/sync-gateway/
COPY services/ems-sim/pyproject.toml services/ems-sim/
RUN pip install -c requirements.lock setuptools wheel gunicorn \
 && python -c "import pathlib, tomllib; print('\\n'.join(sorted({d for p in pathlib.Path('.').glob('**/pyproject.toml') for d in tomllib.loads(p.read_text()).get('project', {}).get('dependencies', []) if not d.startswith('quxiang-')})))" > /tmp/deps.txt \
 && pip install -c requirements.lock -r /tmp/deps.txt \
 && rm /tmp/deps.txt

# The source, installed editable as `make install` does: each service finds its Alembic
# migrations next to its package (services/<name>/migrations).
COPY libs/ libs/
COPY services/ services/
COPY deploy/gunicorn.conf.py deploy/gunicorn.conf.py
COPY deploy/docker/ deploy/docker/
COPY deploy/rabbitmq/ deploy/rabbitmq/
RUN pip install --no-deps --no-build-isolation -e libs/common \
      -e services/accounts -e services/records -e services/signing -e services/stats \
      -e services/sync-gateway -e services/ems-sim \
 && python -c "from quxiang.common.service import discover_services; print(sorted(discover_services()))"

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home quxiang \
 && install -d -o quxiang -g quxiang /var/lib/quxiang /tmp/qx-metrics
USER 10001:10001

EXPOSE 8000 9100
CMD ["python", "-m", "quxiang.common.suite"]
