"""Build-time helpers shared by the Python and C plugin builds: the
manifest file (``manifest``) and the contract's worlds and operations
(``contract``)."""
