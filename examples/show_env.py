"""A stand-in for the Flask app's config.py: reads its settings with
os.environ.get() and shows which it received, by name and length only, never
the values."""

import os

SETTINGS = [
    "SECRET_KEY",
    "SQLALCHEMY_DATABASE_URI",
    "GOOGLE_MAPS_API_TOKEN",
    "SIMS_PORTAL_SLACK_BOT",
    "CONSUMER_KEY",
    "CONSUMER_SECRET",
    "ACCESS_TOKEN",
    "LOG_LEVEL",
    "PORT",
]

for name in SETTINGS:
    value = os.environ.get(name)
    if value is None:
        print(f"{name:<24} missing")
    else:
        print(f"{name:<24} set, {len(value)} characters")
leftover = sorted(k for k in os.environ if k.startswith("SECRUN_"))
print(f"SECRUN_* variables seen by the app: {leftover or 'none'}")
