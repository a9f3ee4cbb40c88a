"""personal-data-ledger: the domain, the append path, the log adapters and the command line."""

__version__ = "0.1.0"
