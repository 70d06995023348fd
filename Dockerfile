# kaohe: the WeCom assessment bot. Two stages: dependencies are built into a virtualenv from the
# lock file (constraints.txt), and only that virtualenv goes into the runtime image, which runs as
# an unprivileged user and keeps every file it writes under /data (a volume).
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/kaohe
COPY constraints.txt pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY scoring scoring
COPY reminders reminders
COPY storage storage
COPY tally tally
RUN /opt/kaohe/bin/pip install -c constraints.txt .

FROM ${PYTHON_IMAGE}
ENV PYTHONUNBUFFERED=1 \
    PATH=/opt/kaohe/bin:$PATH \
    TZ=Asia/Shanghai \
    KAOHE_DATA_DIR=/data \
    KAOHE_HOST=0.0.0.0 \
    KAOHE_PORT=8080
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home kaohe \
    && mkdir /data && chown kaohe:kaohe /data
COPY --from=build /opt/kaohe /opt/kaohe
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["kaohe", "health"]
CMD ["kaohe", "serve"]
