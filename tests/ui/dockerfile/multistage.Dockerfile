FROM python:3.12 AS build
RUN pip wheel .
FROM python:3.12-slim
COPY --from=build /wheels /wheels
