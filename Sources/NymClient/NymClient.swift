// NymClient: placeholder until its issue lands.
