"""Pure forensic functions over bytes and numpy arrays; analyzers wrap them."""
