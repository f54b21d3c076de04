"""Settings, read from the environment as the Sims Portal's config.py does.

secrun has put the secret values into the environment before gunicorn
starts; nothing here knows about AWS."""

import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("SQLALCHEMY_DATABASE_URI")
    GOOGLE_MAPS_API_TOKEN = os.environ.get("GOOGLE_MAPS_API_TOKEN")
    SIMS_PORTAL_SLACK_BOT = os.environ.get("SIMS_PORTAL_SLACK_BOT")
    CONSUMER_KEY = os.environ.get("CONSUMER_KEY")
    CONSUMER_SECRET = os.environ.get("CONSUMER_SECRET")
    ACCESS_TOKEN = os.environ.get("ACCESS_TOKEN")
    ACCESS_TOKEN_SECRET = os.environ.get("ACCESS_TOKEN_SECRET")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "info")


SETTINGS = [name for name in vars(Config) if name.isupper()]
