"""Errors the product raises on purpose: each carries a message a user can act on."""

from __future__ import annotations


class TrafficSignsError(Exception):
    """Base class; the CLI prints these as one clean line instead of a traceback."""


class DataError(TrafficSignsError):
    """A dataset file is missing, damaged, or does not match its expected layout."""


class ChecksumError(DataError):
    """A downloaded or cached file does not have the checksum it should."""


class ModelFileError(TrafficSignsError):
    """A model file is missing, tampered with, or does not match its metadata."""


class UnknownModelError(TrafficSignsError):
    """A model name that no architecture is registered under."""


class ImageError(TrafficSignsError):
    """An image cannot be decoded or is outside the accepted limits."""


class ImageFormatError(ImageError):
    """The bytes are no image in a format this tool reads, or there are none at all."""


class StorageError(TrafficSignsError):
    """A file could not be written (disk full, no permission, read-only folder); the previous
    version of the file, if any, is left as it was."""


class SettingsError(TrafficSignsError):
    """An environment variable (or a setting given in code) holds a value it does not accept."""
