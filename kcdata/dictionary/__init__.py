"""Data dictionaries: each dataset's fields described for the public, from its Table Schema and inventory entry."""

from kcdata.dictionary.model import DataDictionary, DictField, build_dictionary, dictionary_for

__all__ = ["DataDictionary", "DictField", "build_dictionary", "dictionary_for"]
