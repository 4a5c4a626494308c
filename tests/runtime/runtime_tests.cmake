hearth_add_test(chat_prompt_test SOURCES runtime/chat_prompt_test.cc LIBS hearth_runtime LABELS golden)
