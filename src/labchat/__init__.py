"""labchat: questions about China's AI labs, answered from a folder of documents by a small local model."""

__version__ = "0.1.0"
