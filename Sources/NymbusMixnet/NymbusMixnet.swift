// NymbusMixnet: placeholder until its issue lands.
