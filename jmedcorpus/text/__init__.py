"""Text utilities: normalization, MeCab tokenizer, character classes, sentence splitting."""
