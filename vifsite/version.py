from vifsite import __version__

APP_VERSION = f"vifsite {__version__}"
