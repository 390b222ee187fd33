"""The command line's longer tasks: the configuration check and the rehearsal."""
