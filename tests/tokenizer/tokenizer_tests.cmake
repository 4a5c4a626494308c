# Tokenizer models (SPM, BPE, WordPiece), special tokens, decoding and GGUF vocabularies.
hearth_add_test(tokenizer_test SOURCES tokenizer/tokenizer_test.cc tokenizer/detokenizer_test.cc
                LIBS hearth_model)
hearth_add_test(vocab_golden_test SOURCES tokenizer/vocab_golden_test.cc LIBS hearth_model
                LABELS golden)
