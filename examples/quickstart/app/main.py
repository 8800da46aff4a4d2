"""The service the quickstart template runs: a greeting on port 8000."""
import os

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return {"greeting": os.environ.get("GREETING", "hello"), "env": os.environ.get("APP_ENV")}


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))
