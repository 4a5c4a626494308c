# Deploy layer tests (DESIGN §7).
add_library(hearth_testing_http STATIC testing/static_httpd.cc)
target_link_libraries(hearth_testing_http PUBLIC hearth_base Threads::Threads)
target_include_directories(hearth_testing_http PUBLIC ${PROJECT_SOURCE_DIR}/tests)

hearth_add_test(tar_test SOURCES deploy/tar_test.cc LIBS hearth_tar)
hearth_add_test(http_fetch_test SOURCES deploy/http_fetch_test.cc LIBS hearth_fetch hearth_testing_http)
hearth_add_test(deploy_unit_test SOURCES deploy/rollout_test.cc deploy/keys_test.cc deploy/deploy_fixture.cc LIBS hearth_deploy)
hearth_add_test(bundle_test SOURCES deploy/bundle_test.cc deploy/store_test.cc deploy/deploy_fixture.cc
                LIBS hearth_deploy)
hearth_add_test(store_crash_test SOURCES deploy/store_crash_test.cc deploy/deploy_fixture.cc
                LIBS hearth_deploy LABELS e2e)
add_dependencies(store_crash_test hearth)
hearth_add_test(update_e2e_test SOURCES deploy/update_e2e_test.cc deploy/deploy_fixture.cc
                LIBS hearth_deploy hearth_testing_http LABELS e2e)
add_dependencies(update_e2e_test hearth)
hearth_add_test(deploy_cli_test SOURCES deploy/deploy_cli_test.cc deploy/deploy_fixture.cc
                LIBS hearth_deploy LABELS e2e)
add_dependencies(deploy_cli_test hearth)
