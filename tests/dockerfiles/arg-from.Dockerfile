ARG PYTHON_VERSION=3.11
ARG VARIANT=slim-bookworm
FROM python:${PYTHON_VERSION}-${VARIANT} AS runtime

LABEL org.opencontainers.image.source="https://github.com/example/app" \
      org.opencontainers.image.licenses="MIT"

# Only redeclared ARGs are visible after FROM
ARG PYTHON_VERSION
ARG POETRY_VERSION=1.8.3
ENV POETRY_HOME=/opt/poetry \
    POETRY_VIRTUALENVS_CREATE=false

RUN pip install "poetry==${POETRY_VERSION}" \
 && echo "built for python ${PYTHON_VERSION}" > /etc/python-version

WORKDIR /opt/app-${POETRY_VERSION}
COPY pyproject.toml poetry.lock ./
RUN poetry install --no-root --only main
CMD python -m app
