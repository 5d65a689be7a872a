# One image for every service; SERVICE (build arg or runtime env) picks which one runs.
#   docker build --build-arg SERVICE=identity -t sotay-identity .
#   docker run -e SERVICE=documents … sotay
FROM python:3.11-slim

# uv at the version pyproject.toml pins ([tool.uv] required-version), as the Makefile installs it.
COPY pyproject.toml /tmp/pin/
RUN UV_VERSION="$(python -c 'import tomllib; print(tomllib.load(open("/tmp/pin/pyproject.toml", "rb"))["tool"]["uv"]["required-version"].lstrip("="))')" \
    && pip install --no-cache-dir "uv==${UV_VERSION}"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY contracts/ contracts/
COPY kit/ kit/
COPY services/ services/
# The local stack is a workspace member (uv reads its metadata) but is not installed here.
COPY devstack/pyproject.toml devstack/

# Without the dev group: no local stack (devstack/) and none of the server wheels it brings;
# containers use the official images for PostgreSQL, NATS, object storage and Caddy.
RUN uv sync --frozen --no-dev \
    && useradd --system --no-create-home --uid 10001 sotay

ENV PATH="/app/.venv/bin:${PATH}"
ARG SERVICE=""
ENV SERVICE=${SERVICE}
USER sotay
STOPSIGNAL SIGTERM
CMD ["python", "-m", "sotay_kit.serve"]
