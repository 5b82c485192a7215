"""Weekly digests built from the archive (the digest issue). Nothing here yet."""
