hearth_add_test(chat_prompt_test SOURCES runtime/chat_prompt_test.cc LIBS hearth_runtime LABELS golden)
hearth_add_test(streaming_test SOURCES runtime/streaming_test.cc LIBS hearth_runtime hearth_model LABELS golden)
hearth_add_test(regression_test SOURCES runtime/regression_test.cc LIBS hearth_runtime LABELS golden)
