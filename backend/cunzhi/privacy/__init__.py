"""Erasure and retention of personal data (个人信息保护法 Art. 19, 47)."""
