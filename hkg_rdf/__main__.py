"""``python -m hkg_rdf`` runs the command line."""

from .cli import main

main()
