"""Vehicle-side bridge: tracker protocols and NMEA to Siaga MQTT, with store-and-forward.

Installs alone (``pip install .[bridge]``) and imports nothing else of Siaga's.
"""
