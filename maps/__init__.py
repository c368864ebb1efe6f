"""Map rendering (folium/Leaflet) of data it is given; static assets served offline."""
