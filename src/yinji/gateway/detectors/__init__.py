"""Detectors of personal data in Chinese and English text, and the engine that combines them."""

from yinji.gateway.detectors.base import CATEGORIES, Detection, Detector
from yinji.gateway.detectors.engine import DetectorEngine

__all__ = ["CATEGORIES", "Detection", "Detector", "DetectorEngine"]
