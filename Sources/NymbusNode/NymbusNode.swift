// NymbusNode: placeholder until its issue lands.
