//! Offline test kit (placeholder).
