# Chat templates (src/tokenizer/chat): language unit tests, the shared goldens, the CLI.
hearth_add_test(chat_template_test SOURCES chat/template_test.cc chat/template_limits_test.cc
                LIBS hearth_chat)
hearth_add_test(chat_golden_test SOURCES chat/golden_test.cc LIBS hearth_chat LABELS golden)
hearth_add_test(chat_cli_test SOURCES chat/cli_test.cc LIBS hearth_chat LABELS e2e)
add_dependencies(chat_cli_test hearth)
