# Build stage: build a wheel with the build tools, keep them out of the runtime image.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY nudges ./nudges
COPY storage ./storage
COPY migrations ./migrations
COPY curtness_eval ./curtness_eval
RUN pip install --no-cache-dir --upgrade pip build \
 && python -m build --wheel --outdir /wheels \
 && pip wheel --no-cache-dir --wheel-dir /wheels /wheels/vraagbot-*.whl

# Runtime stage: only the wheels, a non-root user, and a writable data folder for the SQLite default.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 vraagbot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels vraagbot && rm -rf /wheels
USER vraagbot
WORKDIR /home/vraagbot
ENV VRAAGBOT_DATABASE_URL=sqlite:////home/vraagbot/data/vraagbot.db \
    PYTHONUNBUFFERED=1
RUN mkdir -p /home/vraagbot/data
VOLUME ["/home/vraagbot/data"]
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3978/healthz', timeout=2)"
CMD ["vraagbot", "serve", "--host", "0.0.0.0", "--port", "3978"]
