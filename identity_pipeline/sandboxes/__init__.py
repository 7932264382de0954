"""Local stand-ins for the UID2 operator and the ID5 Partner Signals API.

They speak the real wire contracts over real HTTP on 127.0.0.1 so the pipeline, its tests and
the demo run without credentials and without touching the public services.
"""
