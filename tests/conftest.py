"""Test session start-up: torch's device-backend autoload stays off, as in every project entry point."""
import os

os.environ.setdefault("TORCH_DEVICE_BACKEND_AUTOLOAD", "0")
