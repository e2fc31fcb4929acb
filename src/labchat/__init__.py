"""labchat: questions answered from a folder of documents by a small local model, with their passages."""

__version__ = "0.1.0"
