// NymbusPubSub: placeholder until its issue lands.
