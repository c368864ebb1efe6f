# Siaga server image: API, ingest worker and CLI (`siaga`). Build: docker build -t siaga .
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SIAGA_STATE_DIR=/var/lib/siaga
RUN apt-get update && apt-get install -y --no-install-recommends libexpat1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/siaga
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY geo ./geo
COPY tracking ./tracking
COPY dispatch ./dispatch
COPY api ./api
COPY maps ./maps
COPY gps_firmware_bridge ./gps_firmware_bridge
COPY schemas ./schemas
COPY data ./data
RUN pip install --no-cache-dir -e '.[server,bridge]' && mkdir -p /var/lib/siaga/roads \
    && python -c "from geo.routing.kernels import warm_up; warm_up()"
EXPOSE 8000
CMD ["siaga", "serve", "--host", "0.0.0.0", "--port", "8000"]
