"""A tiny Flask app configured like the Sims Portal. GET /settings shows
which settings it received, by name and length: never a value."""

from flask import Flask, jsonify

from config import SETTINGS, Config

app = Flask(__name__)
app.config.from_object(Config)


@app.get("/settings")
def settings():
    return jsonify(
        {
            name: None if app.config.get(name) is None else len(app.config[name])
            for name in SETTINGS
        }
    )


@app.get("/healthz")
def healthz():
    return "ok\n"
