"""SiamFC reproduction library: every notebook calls into this package."""
__version__ = "0.1.0"
