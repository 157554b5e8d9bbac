"""Scoring: feature assembly, models, explanations, thresholds, evaluation."""
