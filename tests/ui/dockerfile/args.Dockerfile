ARG PY=3.11
FROM python:${PY}
ARG GREETING=hello
RUN echo "$GREETING from python ${PY}"
