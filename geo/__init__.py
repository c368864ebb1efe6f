"""Administrative boundaries, geocoding and the road network (the bottom layer of Siaga)."""
