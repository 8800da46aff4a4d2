FROM python:3.12
RUN pip install flask
COPY app /app
CMD ["python", "/app/main.py"]
