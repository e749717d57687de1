// NymbusBroker: placeholder until its issue lands.
