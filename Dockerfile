FROM python:3.11-slim
ENV TZ=Asia/Shanghai PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends tzdata fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY scoring scoring
COPY reminders reminders
COPY storage storage
COPY tally tally
RUN pip install .
RUN useradd --create-home --uid 10001 kaohe && mkdir -p /data && chown kaohe /data
USER kaohe
ENV KAOHE_DATABASE_URL=sqlite+aiosqlite:////data/kaohe.db KAOHE_HOST=0.0.0.0
EXPOSE 8080
CMD ["kaohe", "serve"]
