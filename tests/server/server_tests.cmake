# Server layer tests (DESIGN §6).
hearth_add_test(http_test SOURCES server/http_parse_test.cc server/http_server_test.cc LIBS hearth_http)
hearth_add_test(server_auth_test SOURCES server/auth_test.cc server/rate_limit_test.cc server/redact_log_test.cc
                LIBS hearth_server_support)
hearth_add_test(server_metrics_test SOURCES server/metrics_test.cc server/latency_stats_test.cc server/config_toml_test.cc
                LIBS hearth_server_support)
# The OpenAI Node SDK against a real `hearth serve` (tests/e2e_node; needs node and
# `npm ci` there, which scripts/test runs; skipped with a reason otherwise).
add_test(NAME openai_sdk_e2e COMMAND ${PROJECT_SOURCE_DIR}/tests/e2e_node/run.sh $<TARGET_FILE:hearth>)
set_tests_properties(openai_sdk_e2e PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 300)
hearth_add_test(api_types_test SOURCES server/api_types_test.cc LIBS hearth_server)
add_library(hearth_server_testing STATIC server/server_fixture.cc server/http_test_client.cc)
target_link_libraries(hearth_server_testing PUBLIC hearth_server hearth_testing GTest::gtest)
hearth_add_test(server_api_test SOURCES server/server_api_test.cc LIBS hearth_server_testing LABELS e2e)
hearth_add_test(server_stream_test SOURCES server/server_stream_test.cc LIBS hearth_server_testing LABELS e2e)
hearth_add_test(server_bundle_test SOURCES server/server_bundle_test.cc LIBS hearth_server_testing LABELS e2e)
hearth_add_test(server_cli_test SOURCES server/server_cli_test.cc LIBS hearth_server_testing LABELS e2e)
add_dependencies(server_cli_test hearth)
hearth_add_test(server_soak_test SOURCES server/server_soak_test.cc LIBS hearth_server_testing LABELS slow)
